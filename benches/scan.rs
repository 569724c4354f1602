//! Where a scan spends its time, piece by piece, over one generated `api_json.log` held in memory.
//!
//! Each group measures one stage of the pipeline on its own, in bytes per second of log, so the
//! stages can be compared with each other and with two floors: cutting lines (`lines/memchr`) and
//! a bare `memchr::memmem` count of `"status":401` on two threads (`memmem_limit`), which is about
//! as fast as any byte search over this data can go on a two-core machine. The pieces are: the
//! prefilter cursor, decoding one candidate line, a whole `scan_bytes` (default and
//! `full_parse`), merging two summaries, and gzip decoding with a bare flate2 loop. These benches
//! do not touch files or the command line (`scripts/bench.sh` times the binary end to end), and
//! they assert nothing about speed: they only report it.

use std::hint::black_box;
use std::io::{Read, Write};
use std::sync::OnceLock;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkGroup, Criterion, Throughput, measurement::WallTime};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use memchr::memmem::Finder;
use tokentrail::event::Event;
use tokentrail::generate::{GenSpec, generate};
use tokentrail::prefilter::Prefilter;
use tokentrail::{LineScanner, ScanSettings, Summary, scan_bytes};

/// Size of the generated log: big enough to leave the caches, small enough to keep
/// `cargo bench` to a minute or two.
const LOG_MIB: u64 = 64;

/// The generated log, shared by every group (generating it takes a second or so).
fn log() -> &'static [u8] {
    static LOG: OnceLock<Vec<u8>> = OnceLock::new();
    LOG.get_or_init(|| {
        let spec = GenSpec {
            // The same size rule as `examples/generate.rs --mib`.
            lines: LOG_MIB * 1024 * 1024 / 1_350,
            ..GenSpec::default()
        };
        let mut bytes = Vec::with_capacity((LOG_MIB as usize + 8) << 20);
        generate(&spec, &mut bytes).expect("writing to a Vec cannot fail");
        bytes
    })
}

/// The `start..end` of every line of `buf`, without its `\n`.
fn line_spans(buf: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', buf) {
        spans.push((start, end));
        start = end + 1;
    }
    if start < buf.len() {
        spans.push((start, buf.len()));
    }
    spans
}

/// `buf` cut in two at the first line boundary after its middle.
fn halves(buf: &[u8]) -> (&[u8], &[u8]) {
    let middle = buf.len() / 2;
    let cut = memchr::memchr(b'\n', &buf[middle..]).map_or(buf.len(), |i| middle + i + 1);
    buf.split_at(cut)
}

/// `buf` cut into line-aligned pieces of about `size` bytes, as the reader hands them to the
/// scanner (its default buffer is 1 MiB).
fn pieces(buf: &[u8], size: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = buf;
    while !rest.is_empty() {
        let at = size.min(rest.len());
        let cut = memchr::memchr(b'\n', &rest[at..]).map_or(rest.len(), |i| at + i + 1);
        let (piece, tail) = rest.split_at(cut);
        out.push(piece);
        rest = tail;
    }
    out
}

/// A group with few samples and short measurements: each iteration already covers 64 MiB.
fn group<'c>(c: &'c mut Criterion, name: &str, bytes: usize) -> BenchmarkGroup<'c, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Bytes(bytes as u64));
    g
}

/// (a) The floor for any line-based tool: finding every `\n`.
fn lines(c: &mut Criterion) {
    let buf = log();
    let mut g = group(c, "lines", buf.len());
    g.bench_function("memchr_count", |b| {
        b.iter(|| memchr::memchr_iter(b'\n', black_box(buf)).count())
    });
    g.finish();
}

/// (b) The prefilter alone: the cursor asked about every line, lines already cut. Once with one
/// cursor over the whole 64 MiB, once with a cursor per 1 MiB piece as the reader feeds the
/// scanner: each needle's search runs ahead to its next occurrence, so over one huge buffer the
/// three needles stream it from memory separately, while a 1 MiB piece stays in cache.
fn prefilter(c: &mut Criterion) {
    let buf = log();
    let prefilter = Prefilter::new();
    let count = |piece: &[u8], spans: &[(usize, usize)]| {
        let mut cursor = prefilter.cursor(piece);
        spans
            .iter()
            .filter(|&&(start, end)| cursor.is_candidate(start, end))
            .count()
    };
    let whole = line_spans(buf);
    let pieces: Vec<_> = pieces(buf, 1 << 20)
        .into_iter()
        .map(|p| (p, line_spans(p)))
        .collect();
    let mut g = group(c, "prefilter", buf.len());
    g.bench_function("cursor_every_line", |b| {
        b.iter(|| count(black_box(buf), &whole))
    });
    g.bench_function("cursor_every_line_1mib_pieces", |b| {
        b.iter(|| {
            pieces
                .iter()
                .map(|(p, spans)| count(black_box(p), spans))
                .sum::<usize>()
        })
    });
    // Cutting and the candidate test together, as the scanner asks for them: one vector pass
    // (AVX2) against `memchr` for the line ends plus the cursor.
    let cut = |prefilter: &Prefilter, piece: &[u8]| {
        let mut candidates = 0usize;
        prefilter.for_each_line(piece, |_, _, candidate| {
            candidates += usize::from(candidate)
        });
        candidates
    };
    for (name, prefilter) in [
        ("for_each_line_vector_1mib_pieces", Prefilter::new()),
        (
            "for_each_line_portable_1mib_pieces",
            Prefilter::new().portable(),
        ),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                pieces
                    .iter()
                    .map(|(p, _)| cut(&prefilter, black_box(p)))
                    .sum::<usize>()
            })
        });
    }
    g.finish();
}

/// (c) Decoding one candidate line: the first line the prefilter lets through (a failure), and
/// the first long line (a ~6 KiB `params` array, which the decoder must skip).
fn decode(c: &mut Criterion) {
    let buf = log();
    let spans = line_spans(buf);
    let prefilter = Prefilter::new();
    let candidate = spans
        .iter()
        .map(|&(s, e)| &buf[s..e])
        .find(|line| prefilter.is_candidate(line))
        .expect("the generated log has failures");
    let long = spans
        .iter()
        .map(|&(s, e)| &buf[s..e])
        .find(|line| line.len() > 4096)
        .expect("the generated log has long lines");
    for (name, line) in [("candidate_line", candidate), ("long_line", long)] {
        let mut g = c.benchmark_group("decode");
        g.sample_size(20)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2))
            .throughput(Throughput::Bytes(line.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| Event::parse(black_box(line)).expect("a generated line is valid JSON"))
        });
        // simd-json needs a mutable copy of the line (it unescapes in place): the copy is part of
        // its cost. The same `Event` type through its serde front end, and its own borrowed DOM.
        g.bench_function(format!("{name}_simd_json_event"), |b| {
            b.iter(|| {
                let mut copy = black_box(line).to_vec();
                let event: Event<'_> = simd_json::serde::from_slice(&mut copy).expect("valid JSON");
                black_box(event.status)
            })
        });
        g.bench_function(format!("{name}_simd_json_value"), |b| {
            b.iter(|| {
                let mut copy = black_box(line).to_vec();
                let value = simd_json::to_borrowed_value(&mut copy).expect("valid JSON");
                black_box(matches!(value, simd_json::BorrowedValue::Object(_)))
            })
        });
        g.finish();
    }
}

/// (d) A whole single-threaded scan of the buffer: prefilter then decode, and decode everything;
/// plus the default scan fed 1 MiB pieces, as `scan_reader` does with its default buffer.
fn scan(c: &mut Criterion) {
    let buf = log();
    let mut g = group(c, "scan_bytes", buf.len());
    let default = ScanSettings::default();
    let full = ScanSettings {
        full_parse: true,
        ..ScanSettings::default()
    };
    g.bench_function("default", |b| {
        b.iter(|| scan_bytes(black_box(buf), &default))
    });
    g.bench_function("full_parse", |b| {
        b.iter(|| scan_bytes(black_box(buf), &full))
    });
    let pieces = pieces(buf, 1 << 20);
    g.bench_function("default_1mib_pieces", |b| {
        b.iter(|| {
            let mut summary = Summary::default();
            let mut scanner = LineScanner::new(&default, true);
            for piece in &pieces {
                // Every piece ends with a newline, so each is consumed whole.
                scanner.scan_buffer(black_box(piece), false, &mut summary);
            }
            scanner.finish(&mut summary);
            (scanner.counts, summary)
        })
    });
    g.finish();
}

/// (e) The final reduce: merging the summaries of the two halves of the buffer (disjoint seconds,
/// overlapping tokens and IPs). Measured per merge; the throughput is the bytes the merged-in
/// summary stands for.
fn merge(c: &mut Criterion) {
    let buf = log();
    let (left, right) = halves(buf);
    let settings = ScanSettings::default();
    let (_, first) = scan_bytes(left, &settings);
    let (_, second) = scan_bytes(right, &settings);
    let mut g = c.benchmark_group("summary");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Bytes(right.len() as u64));
    g.bench_function("merge_two_halves", |b| {
        b.iter_batched(
            || (first.clone(), second.clone()),
            |(mut into, from): (Summary, Summary)| {
                into.merge(from);
                into
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// (f) The floor for compressed input: a bare flate2 gzip read loop, in uncompressed bytes.
fn gzip(c: &mut Criterion) {
    let buf = log();
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(buf)
        .expect("writing to a Vec cannot fail");
    let gz = encoder.finish().expect("writing to a Vec cannot fail");
    let mut g = group(c, "gzip", buf.len());
    let mut out = vec![0u8; 1 << 20];
    g.bench_function("multigz_decode", |b| {
        b.iter(|| {
            let mut decoder = MultiGzDecoder::new(black_box(&gz[..]));
            let mut total = 0usize;
            loop {
                match decoder.read(&mut out).expect("valid gzip") {
                    0 => break total,
                    n => total += n,
                }
            }
        })
    });
    g.finish();
}

/// (g) The memmem limit: a bare count of `"status":401`, on one thread and on two halves.
fn memmem_limit(c: &mut Criterion) {
    let buf = log();
    let finder = Finder::new(br#""status":401"#);
    let count = |part: &[u8]| finder.find_iter(part).count();
    let (left, right) = halves(buf);
    let mut g = group(c, "memmem_limit", buf.len());
    g.bench_function("status_401_1_thread", |b| b.iter(|| count(black_box(buf))));
    g.bench_function("status_401_2_threads", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                let other = s.spawn(|| count(black_box(right)));
                count(black_box(left)) + other.join().expect("counting does not panic")
            })
        })
    });
    g.finish();
}

/// (h) Reading a plain file: a memory map against positioned reads into a 1 MiB buffer (what
/// tokentrail does, because a map of a file that `copytruncate` shrinks kills the reader with
/// SIGBUS), both followed by the default scan of what was read. The file is in the page cache.
fn read_paths(c: &mut Criterion) {
    use std::os::unix::fs::FileExt;
    let buf = log();
    let dir = std::env::temp_dir().join(format!("tokentrail-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let path = dir.join("api_json.log");
    std::fs::write(&path, buf).expect("writing the bench file");
    let file = std::fs::File::open(&path).expect("opening the bench file");
    let settings = ScanSettings::default();
    let mut g = group(c, "read", buf.len());
    g.bench_function("mmap_then_scan", |b| {
        b.iter(|| {
            // SAFETY: the bench owns this file and nothing truncates it while it is mapped.
            let map = unsafe { memmap2::Mmap::map(&file) }.expect("mapping the bench file");
            let mut summary = Summary::default();
            let mut scanner = LineScanner::new(&settings, true);
            // In 1 MiB pieces, like the pread path, so that only the reading differs.
            let mut pos = 0;
            while pos < map.len() {
                let end = (pos + (1 << 20)).min(map.len());
                pos += scanner
                    .scan_buffer(&map[pos..end], end == map.len(), &mut summary)
                    .max(1);
            }
            scanner.counts.lines
        })
    });
    g.bench_function("pread_then_scan", |b| {
        b.iter(|| {
            let mut summary = Summary::default();
            let mut scanner = LineScanner::new(&settings, true);
            let reader = ReadAt {
                file: &file,
                pos: 0,
            };
            scanner.scan_reader(reader, 1 << 20, &mut summary);
            scanner.counts.lines
        })
    });
    g.bench_function("pread_only", |b| {
        let mut out = vec![0u8; 1 << 20];
        b.iter(|| {
            let (mut pos, mut total) = (0u64, 0usize);
            loop {
                match file.read_at(&mut out, pos).expect("reading the bench file") {
                    0 => break total,
                    n => {
                        pos += n as u64;
                        total += n;
                    }
                }
            }
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Positioned reads from the start of a file, as a `Read`.
struct ReadAt<'f> {
    file: &'f std::fs::File,
    pos: u64,
}

impl Read for ReadAt<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let n = self.file.read_at(out, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

criterion::criterion_group! {
    name = benches;
    // No HTML plots: they take longer to draw than some of these benches take to run.
    config = Criterion::default().without_plots();
    targets = lines, prefilter, decode, scan, merge, gzip, memmem_limit, read_paths
}
criterion::criterion_main!(benches);
