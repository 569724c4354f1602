//! Container-runtime prefixes in front of a JSON log line.
//!
//! `kubectl logs --timestamps` writes `2024-01-19T14:12:24.214148186Z {…}`; node CRI files
//! (`/var/log/containers/*.log`) write `2025-01-24T16:00:35.863492268Z stdout F {…}`, where a `P` tag
//! marks the start or middle of a long line that continues in the next chunk. This module only
//! recognises and strips prefixes of one physical line; joining `P` chunks is `scan`'s job.

use crate::time::{Millis, parse_rfc3339};

/// Which output stream a CRI chunk came from; partial chunks are joined per stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// `stdout`
    Stdout,
    /// `stderr`
    Stderr,
}

/// The CRI part of a prefix: the stream and whether the chunk is partial (`P`) or final (`F`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CriTag {
    /// The stream the chunk belongs to.
    pub stream: Stream,
    /// `true` for a `P` chunk, which the next chunk of the same stream continues.
    pub partial: bool,
}

/// A physical line with its container prefix removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stripped<'a> {
    /// What follows the prefix (the whole line when there is none).
    pub content: &'a [u8],
    /// The container timestamp, when the line had one.
    pub time: Option<Millis>,
    /// The CRI stream and tag, when the line had them.
    pub cri: Option<CriTag>,
}

/// The longest timestamp a runtime writes: `2024-01-19T14:12:24.214148186Z` is 30 bytes; allow
/// extra fraction digits.
const MAX_TIMESTAMP: usize = 40;

/// Removes a `kubectl --timestamps` or CRI prefix from `line`, if it has one.
pub fn strip(line: &[u8]) -> Stripped<'_> {
    let none = Stripped {
        content: line,
        time: None,
        cri: None,
    };
    if !line.first().is_some_and(u8::is_ascii_digit) {
        return none;
    }
    let window = &line[..line.len().min(MAX_TIMESTAMP + 1)];
    let Some(space) = memchr::memchr(b' ', window) else {
        return none;
    };
    let stamp = &line[..space];
    if stamp.last() != Some(&b'Z') {
        return none;
    }
    let Some(time) = parse_rfc3339(stamp) else {
        return none;
    };
    let rest = &line[space + 1..];
    let stream = if rest.starts_with(b"stdout ") {
        Some(Stream::Stdout)
    } else if rest.starts_with(b"stderr ") {
        Some(Stream::Stderr)
    } else {
        None
    };
    if let Some(stream) = stream {
        let tagged = &rest[7..];
        let partial = match tagged.first() {
            Some(b'P') => Some(true),
            Some(b'F') => Some(false),
            _ => None,
        };
        if let Some(partial) = partial {
            match tagged.get(1) {
                Some(b' ') | None => {
                    // Always a slice of the line itself (empty at its end when there is no
                    // content): the scanner locates content by its address in the buffer.
                    let content = &tagged[tagged.len().min(2)..];
                    let cri = Some(CriTag { stream, partial });
                    return Stripped {
                        content,
                        time: Some(time),
                        cri,
                    };
                }
                _ => {}
            }
        }
    }
    Stripped {
        content: rest,
        time: Some(time),
        cri: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_line_is_untouched() {
        let s = strip(b"{\"status\":401}");
        assert_eq!(s.content, b"{\"status\":401}");
        assert_eq!((s.time, s.cri), (None, None));
    }

    #[test]
    fn kubectl_timestamp() {
        let s = strip(b"2024-01-19T14:12:24.214148186Z {\"a\":1}");
        assert_eq!(s.content, b"{\"a\":1}");
        assert_eq!(s.time, parse_rfc3339(b"2024-01-19T14:12:24.214Z"));
        assert_eq!(s.cri, None);
        // kubectl omits an all-zero fraction.
        assert_eq!(strip(b"2024-01-19T14:12:24Z {}").content, b"{}");
    }

    #[test]
    fn cri_tags() {
        let s = strip(b"2025-01-24T16:00:35.863492268Z stdout P {\"a\":");
        assert_eq!(s.content, b"{\"a\":");
        assert_eq!(
            s.cri,
            Some(CriTag {
                stream: Stream::Stdout,
                partial: true
            })
        );
        let s = strip(b"2025-01-24T16:00:35.863492268Z stderr F }");
        assert_eq!(
            s.cri,
            Some(CriTag {
                stream: Stream::Stderr,
                partial: false
            })
        );
        let s = strip(b"2025-01-24T16:00:35.863492268Z stdout F");
        assert_eq!((s.content, s.cri.is_some()), (&b""[..], true));
    }

    #[test]
    fn near_misses_are_not_prefixes() {
        for line in [
            &b"2024-01-19 {\"a\":1}"[..],
            b"2024-01-19T14:12:24.214+01:00 {}",
            b"12345 {}",
            b"2024-01-19T14:12:24.214Z",
        ] {
            assert_eq!(strip(line).content, line);
        }
        // A stream word without a valid tag keeps the text after the timestamp.
        assert_eq!(
            strip(b"2024-01-19T14:12:24Z stdout X y").content,
            b"stdout X y"
        );
    }
}
