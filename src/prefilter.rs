//! The byte prefilter: can this line possibly be a failure, a probe or a forbidden request?
//!
//! Only lines that pass are JSON-decoded. The test is conservative: it may let through lines that
//! turn out to be ordinary requests, but it never rejects a line that full parsing would count as a
//! failure, a probe or forbidden_other (`--full-parse` and a differential test keep it honest).
//!
//! A line is a candidate when it contains
//! - a `"status"` key whose value is not a plain integer other than 401 and 403 (so `401`, `403`,
//!   `"401"` and anything unusual pass; `200` does not),
//! - `auth_fail` (probes and attributed failures carry `meta.auth_fail_*`), or
//! - `\u00`: an escaped ASCII character could spell either key in a way the byte test cannot see.
//!
//! It does not look at which object a key belongs to, so a nested `"status":401` passes too.
//!
//! With [`Prefilter::with_successes`], lines with a `"token_id"` key (successful token requests)
//! pass too, so that the last success of a failing token can be found (`--last-success`).
//!
//! [`Prefilter::for_each_line`] cuts a buffer into lines and answers the test for each. On x86-64
//! CPUs with AVX2 it does both in one vector pass (`avx2.rs`); elsewhere, and for
//! `--last-success`, it cuts with `memchr` and asks a [`Cursor`], which makes one `memmem` pass per
//! needle. Both give the same answers (a property test compares them).

use memchr::memmem::Finder;

#[cfg(target_arch = "x86_64")]
mod avx2;

const STATUS: &[u8] = b"\"status\"";
const AUTH_FAIL: &[u8] = b"auth_fail";
const ASCII_ESCAPE: &[u8] = b"\\u00";
const TOKEN_ID: &[u8] = b"\"token_id\"";

/// Byte searchers for the candidate test; build once and share between threads.
#[derive(Debug, Clone)]
pub struct Prefilter {
    status: Finder<'static>,
    auth_fail: Finder<'static>,
    escape: Finder<'static>,
    success: Option<Finder<'static>>,
    /// Use the one-pass vector cutter when the CPU has it.
    vector: bool,
}

/// The end of a buffer after its last `\n`: where it starts, and whether what is there so far is
/// a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rest {
    /// Offset of the first byte after the last `\n` (the buffer's length when it ends with one).
    pub start: usize,
    /// The candidate test for `buf[start..]` as a line of its own.
    pub candidate: bool,
}

impl Default for Prefilter {
    fn default() -> Self {
        Self::new()
    }
}

/// JSON whitespace that can stand inside one line (a `\n` ends the line).
fn is_json_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r')
}

/// Given the bytes right after a `"status"` occurrence, tells whether it could be a key whose value
/// is a failure or forbidden status. `after` may run past the end of the line: a `\n` stops it.
fn status_may_matter(after: &[u8]) -> bool {
    let mut i = 0;
    while i < after.len() && is_json_space(after[i]) {
        i += 1;
    }
    if after.get(i) != Some(&b':') {
        return false; // a value such as `{"key":"status"}`, not a key
    }
    i += 1;
    while i < after.len() && is_json_space(after[i]) {
        i += 1;
    }
    let rest = &after[i..];
    let run = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if run == 0 {
        // A string, a negative number, null, a line cut short: let the parser decide.
        return true;
    }
    matches!(&rest[..run], b"401" | b"403")
}

impl Prefilter {
    /// Builds the searchers.
    pub fn new() -> Self {
        Self {
            status: Finder::new(STATUS).into_owned(),
            auth_fail: Finder::new(AUTH_FAIL).into_owned(),
            escape: Finder::new(ASCII_ESCAPE).into_owned(),
            success: None,
            vector: true,
        }
    }

    /// Never uses the vector cutter (tests and benches compare the two paths).
    pub fn portable(mut self) -> Self {
        self.vector = false;
        self
    }

    /// Cuts `buf` at each `\n` and calls `line(start, end, candidate)` for every line, in order
    /// (`end` is the offset of its `\n`). Returns the unterminated rest, which the caller scans as
    /// a last line at the end of its input, or keeps for the next buffer.
    pub fn for_each_line<F: FnMut(usize, usize, bool)>(&self, buf: &[u8], line: F) -> Rest {
        #[cfg(target_arch = "x86_64")]
        if self.vector && self.success.is_none() && std::is_x86_feature_detected!("avx2") {
            // SAFETY: `avx2::for_each_line` needs the AVX2 instructions and nothing else; the CPU
            // has them (checked just above).
            return unsafe { avx2::for_each_line(buf, line) };
        }
        self.for_each_line_portable(buf, line)
    }

    fn for_each_line_portable<F: FnMut(usize, usize, bool)>(
        &self,
        buf: &[u8],
        mut line: F,
    ) -> Rest {
        let mut cursor = self.cursor(buf);
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', buf) {
            line(start, end, cursor.is_candidate(start, end));
            start = end + 1;
        }
        Rest {
            start,
            candidate: cursor.is_candidate(start, buf.len()),
        }
    }

    /// Also lets through lines with a `"token_id"` key (successful token requests).
    pub fn with_successes(mut self) -> Self {
        self.success = Some(Finder::new(TOKEN_ID).into_owned());
        self
    }

    /// The candidate test for one line on its own.
    pub fn is_candidate(&self, line: &[u8]) -> bool {
        if self.auth_fail.find(line).is_some()
            || self.escape.find(line).is_some()
            || self
                .success
                .as_ref()
                .is_some_and(|f| f.find(line).is_some())
        {
            return true;
        }
        // Step one byte at a time, not past the whole needle: `"status"status":401` overlaps.
        let mut from = 0;
        while let Some(at) = line.get(from..).and_then(|rest| self.status.find(rest)) {
            let at = from + at;
            if status_may_matter(&line[at + STATUS.len()..]) {
                return true;
            }
            from = at + 1;
        }
        false
    }

    /// A cursor that answers the candidate test for successive lines of `buf` while searching
    /// `buf` only once per needle.
    pub fn cursor<'b>(&'b self, buf: &'b [u8]) -> Cursor<'b> {
        Cursor {
            filter: self,
            buf,
            status: Hit::Unknown,
            auth_fail: Hit::Unknown,
            escape: Hit::Unknown,
            success: Hit::Unknown,
        }
    }
}

/// Verifies the positions the vector loop flags, tracks lines, and calls back at each `\n`.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
struct Hits<'b, F> {
    buf: &'b [u8],
    line: F,
    start: usize,
    candidate: bool,
}

#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
impl<'b, F: FnMut(usize, usize, bool)> Hits<'b, F> {
    fn new(buf: &'b [u8], line: F) -> Self {
        Self {
            buf,
            line,
            start: 0,
            candidate: false,
        }
    }

    /// `buf[at]` may be a `\n`, the `\` of `\u00`, the `h` of `auth_fail` or the `u` of
    /// `"status"`.
    #[inline(always)]
    fn at(&mut self, at: usize) {
        let buf = self.buf;
        match buf[at] {
            b'\n' => {
                (self.line)(self.start, at, self.candidate);
                self.start = at + 1;
                self.candidate = false;
            }
            _ if self.candidate => {}
            b'\\' => self.candidate = buf[at..].starts_with(ASCII_ESCAPE),
            b'h' => self.candidate = at >= 3 && buf[at - 3..].starts_with(AUTH_FAIL),
            b'u' => {
                self.candidate = at >= 5
                    && buf[at - 5..].starts_with(STATUS)
                    && status_may_matter(&buf[at + 3..]);
            }
            _ => {}
        }
    }

    /// Checks every byte from `from` to the end one by one, and returns the rest.
    fn scalar_from(mut self, from: usize) -> Rest {
        for at in from..self.buf.len() {
            if matches!(self.buf[at], b'\n' | b'\\' | b'h' | b'u') {
                self.at(at);
            }
        }
        Rest {
            start: self.start,
            candidate: self.candidate,
        }
    }
}

/// The next occurrence of a needle at or after some position.
#[derive(Debug, Clone, Copy)]
enum Hit {
    Unknown,
    At(usize),
    Never,
}

/// Answers the candidate test for lines given in increasing order over one buffer.
#[derive(Debug)]
pub struct Cursor<'b> {
    filter: &'b Prefilter,
    buf: &'b [u8],
    status: Hit,
    auth_fail: Hit,
    escape: Hit,
    success: Hit,
}

/// Advances `hit` to the first occurrence at or after `from`, and returns it.
fn next_at(finder: &Finder<'_>, buf: &[u8], hit: &mut Hit, from: usize) -> Option<usize> {
    match *hit {
        Hit::Never => return None,
        Hit::At(at) if at >= from => return Some(at),
        _ => {}
    }
    *hit = match buf.get(from..).and_then(|rest| finder.find(rest)) {
        Some(at) => Hit::At(from + at),
        None => Hit::Never,
    };
    match *hit {
        Hit::At(at) => Some(at),
        _ => None,
    }
}

impl Cursor<'_> {
    /// The candidate test for the line `buf[start..end]`. Calls must come with non-decreasing
    /// `start`, and lines must not overlap.
    pub fn is_candidate(&mut self, start: usize, end: usize) -> bool {
        let (f, buf) = (self.filter, self.buf);
        if next_at(&f.auth_fail, buf, &mut self.auth_fail, start).is_some_and(|at| at < end)
            || next_at(&f.escape, buf, &mut self.escape, start).is_some_and(|at| at < end)
            || f.success.as_ref().is_some_and(|s| {
                next_at(s, buf, &mut self.success, start).is_some_and(|at| at < end)
            })
        {
            return true;
        }
        let mut from = start;
        while let Some(at) = next_at(&f.status, buf, &mut self.status, from) {
            if at >= end {
                return false;
            }
            if status_may_matter(&buf[at + STATUS.len()..end]) {
                return true;
            }
            from = at + 1;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let p = Prefilter::new();
        for yes in [
            &br#"{"status":401}"#[..],
            br#"{"status":403,"path":"/"}"#,
            br#"{"status" : 401}"#,
            br#"{"status":"401"}"#,
            br#"{"status":200,"status":401}"#,
            br#"{"status":200,"meta.auth_fail_reason":"token_expired"}"#,
            br#"{"st\u0061tus":401}"#,
            br#"{"status":"#,
        ] {
            assert!(p.is_candidate(yes), "{}", String::from_utf8_lossy(yes));
        }
        for no in [
            &br#"{"status":200,"path":"/api/v4/user"}"#[..],
            br#"{"status":4010}"#,
            br#"{"params":[{"key":"status","value":"401"}],"status":200}"#,
            br#"{"time":"x","mem_bytes":401}"#,
            b"",
        ] {
            assert!(!p.is_candidate(no), "{}", String::from_utf8_lossy(no));
        }
    }

    #[test]
    fn cursor_agrees_with_line_test() {
        let p = Prefilter::new();
        let lines: [&[u8]; 6] = [
            br#"{"status":200}"#,
            br#"{"status":401}"#,
            br#"{"ua":"auth_fail","status":200}"#,
            br#"{"status":302,"x":"\u0041"}"#,
            br#"{"status":200,"path":"/"}"#,
            br#"{"status":403}"#,
        ];
        let buf = lines.join(&b'\n');
        let mut cursor = p.cursor(&buf);
        let mut start = 0;
        for line in lines {
            let end = start + line.len();
            assert_eq!(cursor.is_candidate(start, end), p.is_candidate(line));
            start = end + 1;
        }
    }
}
