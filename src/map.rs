//! Memory maps of plain files, taken only where a map is safe: under a read lease.
//!
//! Reading a map instead of copying the file with `pread` saves the kernel's copy (about half of
//! the CPU time of a default scan, measured in `BENCHMARKS.md`). But a map is only safe if nobody
//! truncates the file while it is read: logrotate's `copytruncate` shrinks the live log in place,
//! and touching a mapped page past the new end kills the process with SIGBUS.
//!
//! A Linux read lease (`fcntl(F_SETLEASE, F_RDLCK)`) makes that impossible:
//!
//! - it is granted only when no process has the file open for writing, so the live log that
//!   GitLab appends to is never mapped (it is read with `pread`, as before);
//! - while it is held, any `open` for writing or `truncate` of the file first notifies us (SIGIO)
//!   and waits until we let go, or until `/proc/sys/fs/lease-break-time` seconds (45 by default)
//!   have passed.
//!
//! So a map is used for files at rest (a rotated `api_json.log.1`, logs copied off a server for
//! analysis), and on the first lease-break signal every scanner stops touching its map and reads
//! the rest with `pread` (see [`lease_broken`]), within milliseconds. A file is leased when its
//! first range starts (`run.rs`) and the lease ends when the file is closed after its last range:
//! a writer waits at most that long (and never more than the kernel's 45 s).
//! Not covered (`--no-mmap` is): a tokentrail process stopped for longer than that in the middle
//! of a mapped piece, and disk errors on a mapped page, which are a SIGBUS instead of an error.
//! Where leases are not available (not the file's owner and no `CAP_LEASE`, NFS, non-Linux), the
//! file is read with `pread`.

use std::fs::File;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// A memory map of a whole file, readable while [`lease_broken`] is false.
#[derive(Debug)]
pub struct LeasedMap {
    map: memmap2::Mmap,
}

impl LeasedMap {
    /// The mapped bytes. Check [`lease_broken`] between reads of a few megabytes: once it is
    /// true, read the rest of the file with `pread`.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }
}

/// Set by SIGIO: another process wants to write to or truncate a leased file.
static BROKEN: AtomicBool = AtomicBool::new(false);

/// Whether a lease-break signal arrived: maps must not be read any more.
pub fn lease_broken() -> bool {
    BROKEN.load(Ordering::Relaxed)
}

/// Whether SIGIO now sets [`BROKEN`] (registered once per process).
fn signal_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| signal_hook::flag::register(signal_hook::consts::SIGIO, &BROKEN).is_ok())
}

/// Whether the kernel gives a lease holder time to react to a break (a setting of 0 would let a
/// truncation through at once).
fn break_time_is_sane() -> bool {
    std::fs::read_to_string("/proc/sys/fs/lease-break-time")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .is_none_or(|seconds| seconds >= 1)
}

/// Maps `file` (opened read-only) if a read lease on it can be taken; `None` means "read it with
/// `pread`". The lease lasts until `file` is closed.
pub fn map_if_safe(file: &File) -> Option<LeasedMap> {
    use std::os::fd::AsRawFd;
    if lease_broken() || !signal_ready() || !break_time_is_sane() {
        return None;
    }
    // SAFETY: `fcntl(F_SETLEASE)` takes an open descriptor (borrowed from `file`, alive for the
    // call) and an integer; it touches no memory of ours. Once it succeeds, no process has the
    // file open for writing, and none can open it for writing or truncate it before we are
    // notified (SIGIO sets `BROKEN`) and `lease-break-time` seconds (45 by default) have passed.
    // Every reader of the map checks `lease_broken` between pieces of about a megabyte, which
    // take milliseconds, so the bytes behind the slice neither change nor vanish while it is
    // read. What this cannot cover, and `pread` would: a process stopped (SIGSTOP, a debugger)
    // in the middle of a piece for longer than the grace time, and a disk error on a mapped page;
    // either is a SIGBUS instead of a reported error. `--no-mmap` avoids both.
    unsafe {
        if libc::fcntl(file.as_raw_fd(), libc::F_SETLEASE, libc::F_RDLCK) != 0 {
            return None;
        }
        let map = memmap2::Mmap::map(file).ok()?;
        // Reads are sequential within each range: let the kernel read ahead.
        let _ = map.advise(memmap2::Advice::Sequential);
        Some(LeasedMap { map })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_file_at_rest_is_mapped_a_file_open_for_writing_is_not() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("api_json.log");
        std::fs::write(&path, b"{\"status\":200}\n")?;
        let file = File::open(&path)?;
        // Leases need the file's owner (we created it) and a local file system; where the test
        // runs without them, the fallback is what it checks.
        if let Some(map) = map_if_safe(&file) {
            assert_eq!(map.bytes(), b"{\"status\":200}\n");
        }
        // Close it (ending the lease) before opening for writing, which would wait for it.
        drop(file);
        let mut writer = std::fs::OpenOptions::new().append(true).open(&path)?;
        writer.write_all(b"x")?;
        let again = File::open(&path)?;
        assert!(
            map_if_safe(&again).is_none(),
            "a file open for writing is never mapped"
        );
        Ok(())
    }
}
