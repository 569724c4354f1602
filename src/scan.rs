//! The line scanner: bytes in, [`LineCounts`] and [`Summary`] out.
//!
//! This is the one place where lines are cut (at `\n`, dropping one trailing `\r`), a leading UTF-8
//! byte-order mark is dropped, container prefixes are stripped and CRI partial chunks are joined.
//! Each line is then blank, non_json, skipped (the prefilter proved it irrelevant) or decoded and
//! counted. The scanner takes byte buffers or a reader; it never opens paths and never prints.

use std::io::{self, Read};

use crate::event::Event;
use crate::filter::Filter;
use crate::prefilter::{Prefilter, Rest};
use crate::prefix::{self, Stream};
use crate::record::{Keep, Normalized, Record, RecordBody};
use crate::summary::{Kind, LineCounts, Summary};
use crate::time::Millis;

/// What every scanner of one run shares.
#[derive(Debug, Clone, Default)]
pub struct ScanSettings {
    /// The byte prefilter.
    pub prefilter: Prefilter,
    /// Which events to keep.
    pub filter: Filter,
    /// Parse every line (no prefilter): the differential reference.
    pub full_parse: bool,
    /// How many unreadable lines to keep as examples per scanned unit.
    pub max_examples: usize,
    /// What to keep of each matching failure (`--format ndjson`, `--raw`).
    pub keep: Keep,
    /// Remember the latest successes of each token (`--last-success`); the prefilter must then
    /// let `"token_id"` lines through ([`Prefilter::with_successes`]).
    pub track_successes: bool,
}

/// An unreadable line kept as an example, with its physical line number (1-based) in its unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based physical line number within the scanned unit.
    pub line: u64,
    /// The start of the line (at most [`EXAMPLE_BYTES`] bytes), lossily decoded.
    pub text: String,
}

/// How many bytes of an unreadable line are kept.
pub const EXAMPLE_BYTES: usize = 240;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A CRI line being assembled from `P` chunks.
#[derive(Debug, Default)]
struct Partial {
    bytes: Vec<u8>,
    /// The original chunks, kept only for `--raw`.
    raw: Vec<u8>,
    first_line: u64,
    time: Option<Millis>,
    active: bool,
}

/// Scans the lines of one unit (a file, a range of a file, a stream) in order.
#[derive(Debug)]
pub struct LineScanner<'s> {
    settings: &'s ScanSettings,
    /// Physical lines seen so far.
    physical: u64,
    at_start: bool,
    partials: [Partial; 2],
    /// Line accounting of this unit.
    pub counts: LineCounts,
    /// The first unreadable lines.
    pub examples: Vec<BadLine>,
    /// Matching failures, when [`ScanSettings::keep`] asks for them.
    pub records: Vec<Record>,
}

fn is_blank(line: &[u8]) -> bool {
    line.iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c'))
}

/// Trims the whitespace of §1.2 (space, tab, CR, LF, form feed) around the object.
fn trim_json_space(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r' | b'\n' | b'\x0c', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r' | b'\n' | b'\x0c'] = s {
        s = rest;
    }
    s
}

/// Where the candidate test for a line comes from.
#[derive(Debug, Clone, Copy)]
enum Candidate {
    /// Already answered for the physical line (the prefix cannot hold a needle: it is digits,
    /// `-:.TZ`, spaces and `stdout`/`stderr` `F`/`P`).
    Known(bool),
    /// Test the content on its own (joined CRI lines).
    Alone,
}

impl<'s> LineScanner<'s> {
    /// A scanner for a unit; `at_file_start` tells whether its first byte is the start of a file
    /// (where a byte-order mark may stand).
    pub fn new(settings: &'s ScanSettings, at_file_start: bool) -> Self {
        Self {
            settings,
            physical: 0,
            at_start: at_file_start,
            partials: Default::default(),
            counts: LineCounts::default(),
            examples: Vec::new(),
            records: Vec::new(),
        }
    }

    /// Physical lines seen so far (CRI chunks count one each).
    pub fn physical_lines(&self) -> u64 {
        self.physical
    }

    /// Scans every complete line of `buf` and returns how many bytes were consumed. With `eof`, a
    /// final line without `\n` is scanned too and everything is consumed.
    pub fn scan_buffer(&mut self, buf: &[u8], eof: bool, summary: &mut Summary) -> usize {
        let settings = self.settings;
        let rest = if settings.full_parse {
            let mut start = 0;
            for end in memchr::memchr_iter(b'\n', buf) {
                self.physical_line(buf, start, end, true, summary);
                start = end + 1;
            }
            Rest {
                start,
                candidate: true,
            }
        } else {
            settings
                .prefilter
                .for_each_line(buf, |start, end, candidate| {
                    self.physical_line(buf, start, end, candidate, summary)
                })
        };
        if rest.start < buf.len() && eof {
            self.physical_line(buf, rest.start, buf.len(), rest.candidate, summary);
            return buf.len();
        }
        rest.start
    }

    #[inline(always)]
    fn physical_line(
        &mut self,
        buf: &[u8],
        start: usize,
        end: usize,
        candidate: bool,
        summary: &mut Summary,
    ) {
        self.physical += 1;
        let raw = &buf[start..end];
        // The common case, kept short: a plain JSON object that the prefilter rules out.
        if !candidate
            && !self.at_start
            && let [b'{', .., b'}'] | [b'{', .., b'}', b'\r'] = raw
        {
            self.counts.lines += 1;
            self.counts.skipped += 1;
            return;
        }
        self.physical_line_slow(buf, raw, end, candidate, summary);
    }

    fn physical_line_slow(
        &mut self,
        buf: &[u8],
        raw: &[u8],
        end: usize,
        candidate: bool,
        summary: &mut Summary,
    ) {
        let mut line = raw;
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        if std::mem::take(&mut self.at_start) && line.starts_with(BOM) {
            line = &line[BOM.len()..];
            if line.is_empty() && end == buf.len() {
                // The file is nothing but a byte-order mark: an empty file, no line.
                self.physical -= 1;
                return;
            }
        }
        if is_blank(line) {
            self.counts.lines += 1;
            self.counts.blank += 1;
            return;
        }
        let stripped = prefix::strip(line);
        if let Some(tag) = stripped.cri {
            let index = match tag.stream {
                Stream::Stdout => 0,
                Stream::Stderr => 1,
            };
            let slot = &mut self.partials[index];
            if tag.partial {
                if !slot.active {
                    slot.active = true;
                    slot.first_line = self.physical;
                    slot.time = stripped.time;
                }
                slot.bytes.extend_from_slice(stripped.content);
                if self.settings.keep == Keep::Raw {
                    slot.raw.extend_from_slice(raw);
                    slot.raw.push(b'\n');
                }
                return;
            }
            if slot.active {
                let mut joined = std::mem::take(&mut slot.bytes);
                joined.extend_from_slice(stripped.content);
                slot.active = false;
                let (line_no, time) = (slot.first_line, slot.time);
                let mut raw_joined = std::mem::take(&mut slot.raw);
                raw_joined.extend_from_slice(raw);
                self.logical_line(
                    &joined,
                    &raw_joined,
                    time,
                    line_no,
                    Candidate::Alone,
                    summary,
                );
                // Keep the allocation for the next long line of this stream.
                joined.clear();
                self.partials[index].bytes = joined;
                return;
            }
        }
        self.logical_line(
            stripped.content,
            raw,
            stripped.time,
            self.physical,
            Candidate::Known(candidate),
            summary,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn logical_line(
        &mut self,
        content: &[u8],
        raw: &[u8],
        time: Option<Millis>,
        line_no: u64,
        candidate: Candidate,
        summary: &mut Summary,
    ) {
        self.counts.lines += 1;
        let object = trim_json_space(content);
        if !(object.len() >= 2 && object[0] == b'{' && object[object.len() - 1] == b'}') {
            self.non_json(line_no, content);
            return;
        }
        if !self.settings.full_parse {
            let is_candidate = match candidate {
                Candidate::Known(known) => known,
                Candidate::Alone => self.settings.prefilter.is_candidate(content),
            };
            if !is_candidate {
                self.counts.skipped += 1;
                return;
            }
        }
        match Event::parse(object) {
            Ok(event) => {
                let counted = summary.record(&event, time, &self.settings.filter, &mut self.counts);
                if self.settings.track_successes && matches!(counted, Some((Kind::OtherRequest, _)))
                {
                    summary.record_success(&event, time);
                }
                if let Some((Kind::Failure, time)) = counted {
                    let body = match self.settings.keep {
                        Keep::Nothing => return,
                        Keep::Raw => RecordBody::Raw(raw.to_vec()),
                        Keep::Normalized => {
                            RecordBody::Normalized(Box::new(Normalized::from_event(&event, time)))
                        }
                    };
                    self.records.push(Record {
                        line: line_no,
                        body,
                    });
                }
            }
            Err(_) => self.non_json(line_no, content),
        }
    }

    fn non_json(&mut self, line: u64, content: &[u8]) {
        self.counts.non_json += 1;
        if self.examples.len() < self.settings.max_examples {
            let cut = &content[..content.len().min(EXAMPLE_BYTES)];
            self.examples.push(BadLine {
                line,
                text: String::from_utf8_lossy(cut).into_owned(),
            });
        }
    }

    /// Ends the unit: a `P` chunk never finished by an `F` chunk is a line of its own (usually a
    /// line cut short, so non_json).
    pub fn finish(&mut self, summary: &mut Summary) {
        for i in 0..self.partials.len() {
            if self.partials[i].active {
                let slot = std::mem::take(&mut self.partials[i]);
                self.logical_line(
                    &slot.bytes,
                    &slot.raw,
                    slot.time,
                    slot.first_line,
                    Candidate::Alone,
                    summary,
                );
            }
        }
    }

    /// Scans everything `reader` yields, with a read buffer of `buffer_size` bytes that grows only
    /// for a line longer than it. Returns the bytes read; on a read error, what was read before it
    /// is scanned and counted, and the error is returned with the byte count.
    pub fn scan_reader<R: Read>(
        &mut self,
        mut reader: R,
        buffer_size: usize,
        summary: &mut Summary,
    ) -> (u64, Option<io::Error>) {
        let mut buf = vec![0u8; buffer_size.max(1)];
        let (mut filled, mut searched, mut total) = (0usize, 0usize, 0u64);
        let mut failure = None;
        loop {
            if filled == buf.len() {
                let grown = buf.len() * 2;
                buf.resize(grown, 0);
            }
            let n = match reader.read(&mut buf[filled..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    failure = Some(e);
                    0
                }
            };
            total += n as u64;
            let eof = n == 0;
            let new = &buf[searched..filled + n];
            filled += n;
            if !eof && memchr::memchr(b'\n', new).is_none() {
                searched = filled;
                continue;
            }
            let used = self.scan_buffer(&buf[..filled], eof, summary);
            buf.copy_within(used..filled, 0);
            filled -= used;
            searched = filled;
            if eof {
                break;
            }
            if filled < buf.len() / 4 && buf.len() > buffer_size.max(1) * 4 {
                buf.truncate(buffer_size.max(1).max(filled * 2));
                buf.shrink_to_fit();
            }
        }
        self.finish(summary);
        (total, failure)
    }
}
