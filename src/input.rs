//! Finding and opening inputs: paths, directories, standard input; plain, gzip and zstd.
//!
//! A directory expands to the GitLab request logs inside it (recursively): `api_json.log*` and
//! `production_json.log*`, including rotated `.N`, `.N.gz`, `.zst` and date-suffixed names.
//! Compression is recognised by magic bytes, not by name. This module opens things and describes
//! them; reading and scanning them is `run`'s job.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// How an input's bytes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Plain text.
    Plain,
    /// gzip, possibly several concatenated members.
    Gzip,
    /// zstd, possibly several frames.
    Zstd,
}

impl Encoding {
    /// Recognises gzip (`1f 8b`) and zstd (`28 b5 2f fd`) by their first bytes.
    pub fn sniff(head: &[u8]) -> Self {
        if head.starts_with(&[0x1f, 0x8b]) {
            Encoding::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Encoding::Zstd
        } else {
            Encoding::Plain
        }
    }
}

/// Where an input's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Standard input (`-`).
    Stdin,
    /// A file.
    File(PathBuf),
}

/// One input to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// What to show for it: the path, or `-` for standard input.
    pub name: String,
    /// Where it comes from.
    pub source: Source,
    /// Why it was picked (`named on the command line`, `in DIR`).
    pub why: String,
}

/// An input that could not be found, opened or read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Opening or inspecting the path failed.
    #[error("{path}: {source}")]
    Open {
        /// The path as given.
        path: String,
        /// The cause.
        source: io::Error,
    },
    /// A directory held no GitLab request log.
    #[error(
        "{path}: no GitLab request logs (api_json.log*, production_json.log*) in this directory"
    )]
    NoLogs {
        /// The directory.
        path: String,
    },
    /// Reading failed part-way; the lines before the fault were counted.
    #[error("{path}: read failed after {offset} bytes: {source}")]
    Read {
        /// The path.
        path: String,
        /// Bytes read (uncompressed) before the fault.
        offset: u64,
        /// The cause.
        source: io::Error,
    },
    /// A compressed stream is damaged or cut short; the lines before the fault were counted.
    #[error("{path}: {encoding:?} data damaged near compressed byte {offset}: {source}")]
    Damaged {
        /// The path.
        path: String,
        /// The compression.
        encoding: Encoding,
        /// Compressed bytes consumed before the fault (approximate, within the decoder's buffer).
        offset: u64,
        /// The cause.
        source: io::Error,
    },
}

/// Whether a file name is a GitLab request log, live or rotated: `api_json.log`, `.1`, `.2.gz`,
/// `.3.zst`, `-2024-05-13`, `-20240513.gz` (and the same for `production_json.log`). Backups and
/// other leftovers (`.bak`, `.swp`, `.1.old`) are not.
pub fn is_request_log_name(name: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let date = |s: &str| {
        s.len() >= 6
            && s.starts_with(|c: char| c.is_ascii_digit())
            && s.bytes().all(|b| b.is_ascii_digit() || b == b'-')
    };
    ["api_json.log", "production_json.log"].iter().any(|base| {
        let Some(rest) = name.strip_prefix(base) else {
            return false;
        };
        let rest = rest
            .strip_suffix(".gz")
            .or_else(|| rest.strip_suffix(".zst"))
            .unwrap_or(rest);
        rest.is_empty()
            || rest.strip_prefix('.').is_some_and(digits)
            || rest.strip_prefix('-').is_some_and(date)
    })
}

/// Orders names naturally: digit runs compare as numbers (`.2.gz` before `.10.gz`).
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, _) => return std::cmp::Ordering::Less,
            (_, None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let na = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let nb = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (da, db) = (&a[..na], &b[..nb]);
                let (ta, tb) = (trim_zeros(da), trim_zeros(db));
                let ord = ta
                    .len()
                    .cmp(&tb.len())
                    .then_with(|| ta.cmp(tb))
                    .then_with(|| na.cmp(&nb));
                if ord.is_ne() {
                    return ord;
                }
                (a, b) = (&a[na..], &b[nb..]);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                (a, b) = (&a[1..], &b[1..]);
            }
        }
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let zeros = d.iter().take_while(|&&c| c == b'0').count();
    &d[zeros..]
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>, errors: &mut Vec<InputError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(source) => {
            errors.push(InputError::Open {
                path: dir.display().to_string(),
                source,
            });
            return;
        }
    };
    let mut names: Vec<(PathBuf, bool)> = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        // Do not follow symlinked directories: a loop must not hang the scan.
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        names.push((path, is_dir));
    }
    names.sort_by(|a, b| natural_cmp(&a.0.to_string_lossy(), &b.0.to_string_lossy()));
    for (path, is_dir) in names {
        if is_dir {
            walk(&path, found, errors);
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(is_request_log_name)
            // Regular files only (a symlink to one too): a named pipe in a log folder would
            // block the whole run waiting for a writer. Named on the command line, it is read.
            && std::fs::metadata(&path).is_ok_and(|m| m.is_file())
        {
            found.push(path);
        }
    }
}

/// Expands command-line paths into inputs: `-` is standard input, a directory its request logs.
/// Paths that do not exist or hold no logs become errors; the others are still returned.
pub fn discover(paths: &[PathBuf]) -> (Vec<Input>, Vec<InputError>) {
    let (mut inputs, mut errors) = (Vec::new(), Vec::new());
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input {
                name: "-".into(),
                source: Source::Stdin,
                why: "standard input".into(),
            });
            continue;
        }
        let shown = path.display().to_string();
        match std::fs::metadata(path) {
            Err(source) => errors.push(InputError::Open {
                path: shown,
                source,
            }),
            Ok(meta) if meta.is_dir() => {
                let mut found = Vec::new();
                walk(path, &mut found, &mut errors);
                if found.is_empty() {
                    errors.push(InputError::NoLogs {
                        path: shown.clone(),
                    });
                }
                for file in found {
                    let name = file.display().to_string();
                    inputs.push(Input {
                        name,
                        source: Source::File(file),
                        why: format!("request log in {shown}"),
                    });
                }
            }
            Ok(_) => inputs.push(Input {
                name: shown,
                source: Source::File(path.clone()),
                why: "named on the command line".into(),
            }),
        }
    }
    // The same file named twice (a directory and a file in it, a symlink) is read once.
    let mut seen = std::collections::HashSet::new();
    inputs.retain(|input| match &input.source {
        Source::File(p) => seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())),
        Source::Stdin => true,
    });
    (inputs, errors)
}

/// Opens a file and tells its size and, for a regular file, its encoding. Pipes and devices
/// (`/dev/stdin`, `<(zcat …)`) get `None`: their first bytes can be read only once, so the
/// caller sniffs them as a stream.
pub fn open_file(path: &Path) -> io::Result<(File, Option<Encoding>, u64)> {
    use std::os::unix::fs::FileExt;
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    }
    if !meta.is_file() {
        return Ok((file, None, meta.len()));
    }
    let mut head = [0u8; 4];
    let mut n = 0;
    while n < head.len() {
        match file.read_at(&mut head[n..], n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((file, Some(Encoding::sniff(&head[..n])), meta.len()))
}

/// Counts the bytes a reader hands out, to locate a fault in a compressed file.
#[derive(Debug)]
pub struct Counting<R> {
    inner: R,
    /// Bytes read so far.
    pub count: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Also counted here, for a progress bar.
    pub progress: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

impl<R> Counting<R> {
    /// Wraps a reader.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            count: Default::default(),
            progress: None,
        }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        if let Some(p) = &self.progress {
            p.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_names() {
        for yes in [
            "api_json.log",
            "api_json.log.1",
            "api_json.log.2.gz",
            "api_json.log-2024-05-13.gz",
            "production_json.log.30.gz",
            "api_json.log.1.zst",
            "api_json.log-20240513",
            "api_json.log.gz",
        ] {
            assert!(is_request_log_name(yes), "{yes}");
        }
        for no in [
            "api_json.logx",
            "auth_json.log",
            "sidekiq.log",
            "api_json.log.3.bak",
            "api_json.log.swp",
            "api_json.log.1.old",
            "api_json.lo",
        ] {
            assert!(!is_request_log_name(no), "{no}");
        }
    }

    #[test]
    fn natural_order() {
        let mut v = vec![
            "api_json.log.10.gz",
            "api_json.log.2.gz",
            "api_json.log",
            "api_json.log.1",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            [
                "api_json.log",
                "api_json.log.1",
                "api_json.log.2.gz",
                "api_json.log.10.gz"
            ]
        );
    }

    #[test]
    fn sniffing() {
        assert_eq!(Encoding::sniff(&[0x1f, 0x8b, 8, 0]), Encoding::Gzip);
        assert_eq!(Encoding::sniff(&[0x28, 0xb5, 0x2f, 0xfd]), Encoding::Zstd);
        assert_eq!(Encoding::sniff(b"{\"a\""), Encoding::Plain);
        assert_eq!(Encoding::sniff(b""), Encoding::Plain);
    }
}
