//! Running a scan over many inputs in parallel: work units, one summary per rayon thread, merged.
//!
//! A big plain file is cut into byte ranges scanned in parallel; each range owns the lines that
//! START inside it, so no line is lost or counted twice. A CRI line cut into `P` chunks belongs,
//! with all its chunks, to the range where its first chunk starts. Compressed files and standard input are
//! streams, one unit each, scanned in parallel with the other units. Plain files are memory-mapped
//! only under a read lease ([`crate::map`]), which the live log never gets; otherwise they are read
//! with positioned reads: a live log truncated by logrotate's `copytruncate` under a map would
//! kill the process with SIGBUS, while a short read is just an earlier end.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::input::{Counting, Encoding, Input, InputError, Source, open_file};
use crate::map::{LeasedMap, lease_broken, map_if_safe};
use crate::pipe::Pipelined;
use crate::prefix;
use crate::scan::{BadLine, LineScanner, ScanSettings};
use crate::summary::{LineCounts, Summary};

/// How the scan is cut into work.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Plain files larger than this are split into ranges of about this size (0: chosen per file,
    /// about four ranges per thread, between 1 and 32 MiB).
    pub chunk_size: u64,
    /// Read buffer size per unit.
    pub buffer_size: usize,
    /// Incremented with every byte read from disk or standard input (compressed bytes for
    /// compressed inputs), for a progress bar.
    pub progress: Option<Arc<AtomicU64>>,
    /// Decompress on a thread of its own (set by [`scan`] when there are spare threads).
    pub pipeline: bool,
    /// Memory-map plain files where that is safe (a read lease, see [`crate::map`]) instead of
    /// copying them with `pread`.
    pub memory_map: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            threads: 0,
            chunk_size: 0,
            buffer_size: 1 << 20,
            progress: None,
            pipeline: false,
            memory_map: true,
        }
    }
}

/// What was learned about one input.
#[derive(Debug, Clone, Default)]
pub struct InputReport {
    /// The path, or `-`.
    pub name: String,
    /// Why it was scanned.
    pub why: String,
    /// Uncompressed bytes scanned.
    pub bytes: u64,
    /// Bytes on disk, for compressed files.
    pub compressed_bytes: Option<u64>,
    /// Its encoding, once opened.
    pub encoding: Option<Encoding>,
    /// Its line accounting.
    pub counts: LineCounts,
    /// Why it could not be (fully) read.
    pub error: Option<String>,
    /// The first unreadable lines, with 1-based physical line numbers in the input.
    pub examples: Vec<BadLine>,
    /// The file got shorter while it was read (e.g. truncated by logrotate).
    pub shrank: bool,
    /// Matching failures in input order, when the scan was asked to keep them.
    pub records: Vec<crate::record::Record>,
}

/// The result of a whole scan.
#[derive(Debug, Clone, Default)]
pub struct ScanOutcome {
    /// One entry per input, in input order; errors of paths that were never opened come too.
    pub inputs: Vec<InputReport>,
    /// The merged failure aggregates.
    pub summary: Summary,
}

impl ScanOutcome {
    /// The accounting over all inputs.
    pub fn totals(&self) -> LineCounts {
        let mut t = LineCounts::default();
        for i in &self.inputs {
            t.merge(&i.counts);
        }
        t
    }

    /// Whether any input had an error.
    pub fn has_errors(&self) -> bool {
        self.inputs.iter().any(|i| i.error.is_some())
    }
}

enum Work {
    Range {
        file: Arc<File>,
        /// The whole file, mapped by the first range that starts, when that is safe (`None`:
        /// maps are off).
        map: Option<SharedMap>,
        start: u64,
        end: u64,
        size: u64,
    },
    Stream,
}

/// A file's map, shared by its ranges and made once: `None` inside when it cannot be mapped safely.
type SharedMap = Arc<OnceLock<Option<LeasedMap>>>;

struct Unit {
    input: usize,
    order: u64,
    work: Work,
    weight: u64,
}

/// The partial report of one unit.
struct UnitResult {
    input: usize,
    order: u64,
    physical: u64,
    counts: LineCounts,
    examples: Vec<BadLine>,
    bytes: u64,
    error: Option<InputError>,
    shrank: bool,
    encoding: Option<Encoding>,
    compressed_bytes: Option<u64>,
    records: Vec<crate::record::Record>,
}

/// Reads `[start, end)` of a file, aligned to whole lines: it skips the partial line at `start`
/// (the previous range owns it) and reads past `end` to finish its last line, never past `size`.
struct RangeReader<'f> {
    file: &'f File,
    pos: u64,
    end: u64,
    size: u64,
    done: bool,
    shrank: bool,
    /// The last byte handed out was `\n`.
    ends_line: bool,
    progress: Option<&'f AtomicU64>,
}

impl<'f> RangeReader<'f> {
    /// Reads from `pos`, the start of a line (nothing skipped), to the end of the last line that
    /// starts before `end`.
    fn from_line_start(file: &'f File, pos: u64, end: u64, size: u64) -> Self {
        Self {
            file,
            pos,
            end,
            size,
            done: pos >= end,
            shrank: false,
            ends_line: false,
            progress: None,
        }
    }

    fn new(file: &'f File, start: u64, end: u64, size: u64) -> io::Result<Self> {
        let mut r = Self {
            file,
            pos: start,
            end,
            size,
            done: false,
            shrank: false,
            ends_line: false,
            progress: None,
        };
        if start > 0 {
            // Find the first line that starts at or after `start`.
            let mut at = start - 1;
            let mut block = vec![0u8; 64 << 10];
            loop {
                if at >= size {
                    r.done = true;
                    break;
                }
                let want = block.len().min((size - at) as usize);
                let n = read_at_full(file, &mut block[..want], at)?;
                if n == 0 {
                    r.done = true;
                    r.shrank = true;
                    break;
                }
                if let Some(i) = memchr::memchr(b'\n', &block[..n]) {
                    r.pos = at + i as u64 + 1;
                    break;
                }
                at += n as u64;
            }
            // A CRI line cut in `P` chunks belongs to the range where it starts: skip its
            // continuations (the previous range reads them, see `read`).
            while !r.done && r.pos < end && is_partial_chunk(file, r.pos - 1)? {
                match next_line_start(file, r.pos, size)? {
                    Some(next) => r.pos = next,
                    None => r.done = true,
                }
            }
            if r.pos >= end {
                r.done = true;
            }
        }
        Ok(r)
    }
}

/// Where the line after the one starting at `at` starts, if there is one.
fn next_line_start(file: &File, mut at: u64, size: u64) -> io::Result<Option<u64>> {
    let mut block = vec![0u8; 64 << 10];
    while at < size {
        let want = block.len().min((size - at) as usize);
        let n = read_at_full(file, &mut block[..want], at)?;
        if n == 0 {
            break;
        }
        if let Some(i) = memchr::memchr(b'\n', &block[..n]) {
            return Ok(Some(at + i as u64 + 1));
        }
        at += n as u64;
    }
    Ok(None)
}

/// Whether the line ended by the newline at `newline` is a CRI `P` chunk, continued by the next
/// line. Runtimes cut long lines into chunks of 16 KiB at most, so only the last 64 KiB are read.
fn is_partial_chunk(file: &File, newline: u64) -> io::Result<bool> {
    let from = newline.saturating_sub(64 << 10);
    let mut block = vec![0u8; (newline - from) as usize];
    let n = read_at_full(file, &mut block, from)?;
    if n < block.len() {
        return Ok(false); // the file shrank: nothing to join
    }
    Ok(ends_in_partial_chunk(&block, from == 0))
}

/// Whether the last line of `before` (the bytes before a newline, at most 64 KiB of them) is a
/// CRI `P` chunk; `at_file_start` tells whether `before` starts at the start of the file.
fn ends_in_partial_chunk(before: &[u8], at_file_start: bool) -> bool {
    let start = match memchr::memrchr(b'\n', before) {
        Some(i) => i + 1,
        None if at_file_start => 0,
        None => return false, // longer than any chunk
    };
    let line = &before[start..];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    prefix::strip(line).cri.is_some_and(|tag| tag.partial)
}

/// The bytes of the range `[start, end)` of a mapped file by the rules of [`RangeReader`]: from
/// the first line that starts in it (skipping the continuations of a CRI line cut in `P` chunks),
/// to the end of the last line that starts in it (with all its chunks).
fn mapped_span(bytes: &[u8], start: usize, end: usize) -> (usize, usize) {
    let size = bytes.len();
    if start >= size {
        return (size, size); // the file got shorter than planned
    }
    let end = end.min(size);
    let partial = |newline: usize| {
        let from = newline.saturating_sub(64 << 10);
        ends_in_partial_chunk(&bytes[from..newline], from == 0)
    };
    let next_line = |at: usize| memchr::memchr(b'\n', &bytes[at..]).map(|i| at + i + 1);
    let mut from = 0;
    if start > 0 {
        let Some(first) = next_line(start - 1) else {
            return (size, size);
        };
        from = first;
        while from < end && partial(from - 1) {
            match next_line(from) {
                Some(next) => from = next,
                None => return (size, size),
            }
        }
        if from >= end {
            return (from, from);
        }
    }
    let mut to = end;
    // Stop at a line end that does not continue a CRI `P` chunk.
    while to > 0 && to < size && (bytes[to - 1] != b'\n' || partial(to - 1)) {
        to = next_line(to).unwrap_or(size);
    }
    (from, to)
}

fn read_at_full(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    loop {
        match file.read_at(buf, at) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

impl Read for RangeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || self.pos >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let in_range = self.pos < self.end;
        if !in_range && self.ends_line && !is_partial_chunk(self.file, self.pos - 1)? {
            // The range ended exactly at a line end: nothing of the next line is ours (unless
            // that line was a CRI `P` chunk, which the next lines continue).
            self.done = true;
            return Ok(0);
        }
        let limit = if in_range { self.end } else { self.size };
        let want = buf.len().min((limit - self.pos) as usize);
        let want = if in_range { want } else { want.min(64 << 10) };
        let mut n = read_at_full(self.file, &mut buf[..want], self.pos)?;
        if n == 0 {
            self.shrank = true;
            self.done = true;
            return Ok(0);
        }
        if !in_range {
            // Past our range: only finish the line that started inside it (and the chunks that
            // continue it, when it is a CRI `P` chunk).
            if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
                n = i + 1;
                if !is_partial_chunk(self.file, self.pos + i as u64)? {
                    self.done = true;
                }
            }
        }
        self.pos += n as u64;
        if let Some(p) = self.progress {
            p.fetch_add(n as u64, Ordering::Relaxed);
        }
        self.ends_line = buf[n - 1] == b'\n';
        Ok(n)
    }
}

/// Whether the start of a file (64 KiB) has a CRI node log line; such files are scanned in one
/// piece, so that `P` chunks are always joined to their `F` chunk. (Node files rotate at 10 MiB by
/// default, so this costs no parallelism that matters.)
fn looks_like_cri(file: &File) -> bool {
    let mut head = vec![0u8; 64 << 10];
    let n = read_at_full(file, &mut head, 0).unwrap_or(0);
    head[..n]
        .split(|&b| b == b'\n')
        .any(|l| prefix::strip(l).cri.is_some())
}

fn plan(inputs: &[Input], opts: &ScanOptions, reports: &mut [InputReport]) -> Vec<Unit> {
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let mut units = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let Source::File(path) = &input.source else {
            units.push(Unit {
                input: i,
                order: 0,
                work: Work::Stream,
                weight: u64::MAX,
            });
            continue;
        };
        // A named pipe or a device is opened once, by the unit that reads it: opening it here
        // too would wait for a writer, and what it wrote would be lost with this handle.
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
            units.push(Unit {
                input: i,
                order: 0,
                work: Work::Stream,
                weight: u64::MAX - 1,
            });
            continue;
        }
        match open_file(path) {
            Err(source) => {
                reports[i].error = Some(
                    InputError::Open {
                        path: input.name.clone(),
                        source,
                    }
                    .to_string(),
                )
            }
            Ok((file, Some(Encoding::Plain), size)) => {
                reports[i].encoding = Some(Encoding::Plain);
                // Mapped (and leased) when its first range starts, not now: a writer waits only
                // while the file is being read.
                let map = opts.memory_map.then(|| Arc::new(OnceLock::new()));
                let chunk = match opts.chunk_size {
                    // Enough ranges for every thread to stay busy to the end, not so small that
                    // their edges cost anything.
                    0 => (size / (threads as u64 * 4)).clamp(1 << 20, 32 << 20),
                    n => n,
                };
                let ranges = if size > chunk && !looks_like_cri(&file) {
                    size.div_ceil(chunk)
                } else {
                    1
                };
                let file = Arc::new(file);
                for r in 0..ranges {
                    let (start, end) = (
                        r * chunk,
                        if r + 1 == ranges {
                            size
                        } else {
                            (r + 1) * chunk
                        },
                    );
                    let work = Work::Range {
                        file: Arc::clone(&file),
                        map: map.clone(),
                        start,
                        end,
                        size,
                    };
                    units.push(Unit {
                        input: i,
                        order: r,
                        work,
                        weight: end - start,
                    });
                }
            }
            Ok((_, encoding, size)) => {
                reports[i].encoding = encoding;
                // Compressed files decode at a fraction of plain speed: weigh them up.
                units.push(Unit {
                    input: i,
                    order: 0,
                    work: Work::Stream,
                    weight: size.saturating_mul(8),
                });
            }
        }
    }
    // Longest work first, so that a big gzip file does not start last.
    units.sort_by_key(|u| std::cmp::Reverse(u.weight));
    units
}

fn run_unit(
    unit: Unit,
    inputs: &[Input],
    settings: &ScanSettings,
    opts: &ScanOptions,
    summary: &mut Summary,
) -> UnitResult {
    let input = &inputs[unit.input];
    let mut result = UnitResult {
        input: unit.input,
        order: unit.order,
        physical: 0,
        counts: LineCounts::default(),
        examples: Vec::new(),
        bytes: 0,
        error: None,
        shrank: false,
        encoding: None,
        compressed_bytes: None,
        records: Vec::new(),
    };
    match unit.work {
        Work::Range {
            file,
            map,
            start,
            end,
            size,
        } => {
            let mut scanner = LineScanner::new(settings, start == 0);
            if let Some(map) = map.as_ref().and_then(|m| mapped(&file, m)) {
                let (bytes, shrank, err) =
                    scan_mapped(&file, map, (start, end, size), opts, &mut scanner, summary);
                result.bytes = bytes;
                result.shrank = shrank;
                result.error = err.map(|(offset, source)| InputError::Read {
                    path: input.name.clone(),
                    offset,
                    source,
                });
            } else {
                match RangeReader::new(&file, start, end, size) {
                    Ok(mut reader) => {
                        reader.progress = opts.progress.as_deref();
                        let (bytes, err) =
                            scanner.scan_reader(&mut reader, opts.buffer_size, summary);
                        result.bytes = bytes;
                        result.shrank = reader.shrank;
                        result.error = err.map(|source| InputError::Read {
                            path: input.name.clone(),
                            offset: start + bytes,
                            source,
                        });
                    }
                    Err(source) => {
                        result.error = Some(InputError::Read {
                            path: input.name.clone(),
                            offset: start,
                            source,
                        })
                    }
                }
            }
            finish(&mut result, scanner);
        }
        Work::Stream => {
            let opened: io::Result<(Box<dyn Read + Send>, Encoding)> = match &input.source {
                Source::Stdin => sniff_stream(Box::new(io::stdin())),
                Source::File(path) => {
                    open_file(path).and_then(|(f, _, _)| sniff_stream(Box::new(f)))
                }
            };
            match opened {
                Err(source) => {
                    result.error = Some(InputError::Open {
                        path: input.name.clone(),
                        source,
                    })
                }
                Ok((reader, encoding)) => {
                    result.encoding = Some(encoding);
                    let mut scanner = LineScanner::new(settings, true);
                    let mut counting = Counting::new(reader);
                    counting.progress = opts.progress.clone();
                    let consumed = Arc::clone(&counting.count);
                    let (bytes, err) = match encoding {
                        Encoding::Plain => scanner.scan_reader(counting, opts.buffer_size, summary),
                        Encoding::Gzip => {
                            let decoder = crate::gzip::Members::new(counting);
                            scanner.scan_reader(
                                decode(Box::new(decoder), opts),
                                opts.buffer_size,
                                summary,
                            )
                        }
                        Encoding::Zstd => match zstd::stream::read::Decoder::new(counting) {
                            Ok(decoder) => scanner.scan_reader(
                                decode(Box::new(decoder), opts),
                                opts.buffer_size,
                                summary,
                            ),
                            Err(e) => (0, Some(e)),
                        },
                    };
                    result.bytes = bytes;
                    if encoding != Encoding::Plain {
                        result.compressed_bytes = Some(consumed.load(Ordering::Relaxed));
                    }
                    result.error = err.map(|source| match encoding {
                        Encoding::Plain => InputError::Read {
                            path: input.name.clone(),
                            offset: bytes,
                            source,
                        },
                        _ => InputError::Damaged {
                            path: input.name.clone(),
                            encoding,
                            offset: consumed.load(Ordering::Relaxed),
                            source,
                        },
                    });
                    finish(&mut result, scanner);
                }
            }
        }
    }
    result
}

/// A decoder, moved to a thread of its own when [`ScanOptions::pipeline`] says so.
fn decode(decoder: Box<dyn Read + Send>, opts: &ScanOptions) -> Box<dyn Read + Send> {
    if opts.pipeline {
        Box::new(Pipelined::spawn(decoder))
    } else {
        decoder
    }
}

/// Peeks at a stream's first bytes to choose its decoder; the peeked bytes are read again.
fn sniff_stream(inner: Box<dyn Read + Send>) -> io::Result<(Box<dyn Read + Send>, Encoding)> {
    let mut head = Vec::with_capacity(4);
    let mut limited = inner.take(4);
    limited.read_to_end(&mut head)?;
    let inner = limited.into_inner();
    let encoding = Encoding::sniff(&head);
    Ok((Box::new(io::Cursor::new(head).chain(inner)), encoding))
}

/// Scans the range `(start, end, size)` of a mapped file, in pieces of about 1 MiB (the lease is
/// checked between them; once it is broken, the rest is read with `pread`). Returns the bytes
/// scanned, whether the file got shorter, and a read error with its offset.
/// The file's map, made by the first range that asks, unless the lease was broken since: after
/// a break a map must not be touched at all, not even to find a range's edges (once the kernel's
/// grace time has passed, its pages may be gone).
fn mapped<'m>(file: &File, map: &'m SharedMap) -> Option<&'m LeasedMap> {
    if lease_broken() {
        return None;
    }
    map.get_or_init(|| map_if_safe(file)).as_ref()
}

fn scan_mapped(
    file: &File,
    map: &LeasedMap,
    (start, end, size): (u64, u64, u64),
    opts: &ScanOptions,
    scanner: &mut LineScanner<'_>,
    summary: &mut Summary,
) -> (u64, bool, Option<(u64, io::Error)>) {
    // The ranges were planned on the size seen when the file was opened; under the lease it
    // cannot change any more, but it may have before.
    let whole = map.bytes();
    let bytes = &whole[..whole.len().min(size as usize)];
    let shrank = (whole.len() as u64) < size;
    let (from, to) = mapped_span(bytes, start as usize, end as usize);
    let piece = opts.buffer_size.max(1);
    let mut pos = from;
    let mut want = piece;
    while pos < to {
        if lease_broken() {
            let mut reader = RangeReader::from_line_start(file, pos as u64, to as u64, size);
            reader.progress = opts.progress.as_deref();
            let (read, err) = scanner.scan_reader(&mut reader, piece, summary);
            let scanned = (pos - from) as u64 + read;
            return (
                scanned,
                shrank || reader.shrank,
                err.map(|e| (from as u64 + scanned, e)),
            );
        }
        let stop = (pos + want).min(to);
        let used = scanner.scan_buffer(&bytes[pos..stop], stop == to, summary);
        if used == 0 {
            // A line longer than the piece: look further.
            want = want.saturating_mul(2);
            continue;
        }
        want = piece;
        if let Some(p) = &opts.progress {
            p.fetch_add(used as u64, Ordering::Relaxed);
        }
        pos += used;
    }
    scanner.finish(summary);
    ((to - from) as u64, shrank, None)
}

fn finish(result: &mut UnitResult, scanner: LineScanner<'_>) {
    result.physical = scanner.physical_lines();
    result.counts = scanner.counts;
    result.examples = scanner.examples;
    result.records = scanner.records;
}

/// Scans every input and returns the merged outcome. Inputs that fail keep what was read before
/// the failure; `errors` from discovery are added as inputs of their own.
pub fn scan(
    inputs: &[Input],
    errors: Vec<InputError>,
    settings: &ScanSettings,
    opts: &ScanOptions,
) -> ScanOutcome {
    let mut reports: Vec<InputReport> = inputs
        .iter()
        .map(|i| InputReport {
            name: i.name.clone(),
            why: i.why.clone(),
            ..InputReport::default()
        })
        .collect();
    let units = plan(inputs, opts, &mut reports);
    // A decoder thread per compressed stream helps only while streams are fewer than threads;
    // with more, the streams themselves keep every thread busy.
    let streams = units
        .iter()
        .filter(|u| matches!(u.work, Work::Stream))
        .count();
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let opts = &ScanOptions {
        pipeline: threads > 1 && streams < threads,
        ..opts.clone()
    };
    // One summary per thread, not per unit: merging summaries costs as much as the distinct
    // tokens and addresses in them, so there are as few as there are threads. Units are handed
    // out biggest first from a shared queue.
    let queue = Mutex::new(units.into_iter());
    let worker = || {
        let mut summary = Summary::default();
        let mut results = Vec::new();
        loop {
            let next = queue.lock().map(|mut q| q.next()).unwrap_or(None);
            let Some(unit) = next else { break };
            results.push(run_unit(unit, inputs, settings, opts, &mut summary));
        }
        (summary, results)
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build();
    let merge = |partials: Vec<(Summary, Vec<UnitResult>)>| {
        let mut summary = Summary::default();
        let mut results = Vec::new();
        for (s, r) in partials {
            summary.merge(s);
            results.extend(r);
        }
        (summary, results)
    };
    let (summary, mut results) = match pool {
        Ok(pool) => pool.install(|| merge(pool.broadcast(|_| worker()))),
        Err(_) => merge(vec![worker()]),
    };
    results.sort_by_key(|r| (r.input, r.order));
    let mut line_base = vec![0u64; inputs.len()];
    for r in results {
        let report = &mut reports[r.input];
        report.counts.merge(&r.counts);
        report.bytes += r.bytes;
        report.shrank |= r.shrank;
        report.encoding = report.encoding.or(r.encoding);
        report.compressed_bytes = report.compressed_bytes.or(r.compressed_bytes);
        let base = line_base[r.input];
        report.examples.extend(r.examples.into_iter().map(|mut b| {
            b.line += base;
            b
        }));
        report.records.extend(r.records.into_iter().map(|mut rec| {
            rec.line += base;
            rec
        }));
        line_base[r.input] += r.physical;
        if report.error.is_none() {
            report.error = r.error.map(|e| e.to_string());
        }
    }
    for report in &mut reports {
        report.examples.truncate(settings.max_examples);
    }
    for e in errors {
        let name = match &e {
            InputError::Open { path, .. }
            | InputError::NoLogs { path }
            | InputError::Read { path, .. }
            | InputError::Damaged { path, .. } => path.clone(),
        };
        reports.push(InputReport {
            name,
            error: Some(e.to_string()),
            ..InputReport::default()
        });
    }
    ScanOutcome {
        inputs: reports,
        summary,
    }
}
