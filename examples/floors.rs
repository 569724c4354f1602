//! The floors `scripts/bench.sh` times next to tokentrail, on the same files:
//!
//! - `floors memmem FILE`: a bare `memchr::memmem` count of `"status":401` over the memory-mapped
//!   file, the file cut in two halves counted on two threads (issue 5's "practical limit");
//! - `floors gunzip FILE.gz`: a bare flate2 `MultiGzDecoder` read loop into a 1 MiB buffer,
//!   the cost of decompression alone.
//!
//! Each prints its count so that the work cannot be optimised away.

use std::fs::File;
use std::io::Read;

use flate2::read::MultiGzDecoder;
use memchr::memmem;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(what), Some(path)) = (args.next(), args.next()) else {
        return Err("usage: floors memmem|gunzip FILE".into());
    };
    let file = File::open(&path)?;
    match what.as_str() {
        "memmem" => {
            // SAFETY: a benchmark on a file nobody writes to while it runs.
            let map = unsafe { memmap2::Mmap::map(&file)? };
            let bytes = &map[..];
            let (a, b) = bytes.split_at(bytes.len() / 2);
            let count = |half: &[u8]| memmem::find_iter(half, b"\"status\":401").count();
            let (x, y) = std::thread::scope(|s| {
                let other = s.spawn(|| count(b));
                (count(a), other.join().expect("no panic"))
            });
            // A match across the cut is not counted: a floor, not a product.
            println!("{}", x + y);
        }
        "gunzip" => {
            let mut decoder = MultiGzDecoder::new(file);
            let mut buf = vec![0u8; 1 << 20];
            let mut total = 0u64;
            loop {
                match decoder.read(&mut buf)? {
                    0 => break,
                    n => total += n as u64,
                }
            }
            println!("{total}");
        }
        _ => return Err(format!("unknown floor {what}: memmem or gunzip").into()),
    }
    Ok(())
}
