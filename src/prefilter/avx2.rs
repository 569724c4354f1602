//! The one-pass line cutter and candidate test, with AVX2.
//!
//! Each 32-byte block is loaded three times (at offsets 0, 1 and 2) and compared with the bytes
//! that can start something the scanner must see:
//!
//! - `\n`, the end of a line;
//! - `\`, which may start `\u00`;
//! - `h_`, the middle of `auth_fail`;
//! - `us"`, the end of `"status"`.
//!
//! The positions that match are verified with plain byte comparisons in [`super::Hits`]. A line
//! of a GitLab log has about two hits (its `\n` and its `"status"`), so the blocks in between cost
//! a dozen vector instructions each, where the portable path makes three `memmem` passes.

use std::arch::x86_64::{
    __m256i, _MM_HINT_T0, _mm_prefetch, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_movemask_epi8,
    _mm256_or_si256, _mm256_set1_epi8,
};

use super::{Hits, Rest};

/// Bytes the vector loop reads per block: 32 plus the two of look-ahead.
const WINDOW: usize = 34;

/// How far ahead of the loop memory is prefetched: one page.
const PREFETCH_AHEAD: usize = 4096;

/// Calls `line(start, end, candidate)` for every line of `buf` ended by `\n` and returns where
/// the unterminated rest starts and whether it is a candidate so far.
#[target_feature(enable = "avx2")]
pub(super) fn for_each_line<F: FnMut(usize, usize, bool)>(buf: &[u8], line: F) -> Rest {
    let splat = |b: u8| _mm256_set1_epi8(b as i8);
    let (newline, backslash) = (splat(b'\n'), splat(b'\\'));
    let (h, underscore) = (splat(b'h'), splat(b'_'));
    let (u, s, quote) = (splat(b'u'), splat(b's'), splat(b'"'));
    let mut hits = Hits::new(buf, line);
    let mut at = 0;
    while let Some(window) = buf.get(at..at + WINDOW) {
        let load = |k: usize| -> __m256i {
            // Cannot fail: `window` is `WINDOW` (34) bytes and `k` is 0, 1 or 2, so the slice
            // is exactly 32 bytes long.
            let bytes: [u8; 32] = window[k..k + 32].try_into().expect("32 of 34 bytes");
            bytemuck::cast(bytes)
        };
        let (b0, b1, b2) = (load(0), load(1), load(2));
        // Ask for the bytes 4 KiB ahead (the next page) now: the hardware prefetcher stops at
        // page boundaries, and over a memory map every page would otherwise stall the loop
        // (measured: 185 ms -> 140 ms for 1 GiB mapped; no change over `pread` buffers).
        if at % 64 == 0
            && let Some(ahead) = buf.get(at + PREFETCH_AHEAD)
        {
            _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(ahead).cast());
        }
        let eq = _mm256_cmpeq_epi8;
        let ends = _mm256_or_si256(eq(b0, newline), eq(b0, backslash));
        let auth = _mm256_and_si256(eq(b0, h), eq(b1, underscore));
        let status = _mm256_and_si256(_mm256_and_si256(eq(b0, u), eq(b1, s)), eq(b2, quote));
        let any = _mm256_or_si256(ends, _mm256_or_si256(auth, status));
        let mut mask = _mm256_movemask_epi8(any) as u32;
        while mask != 0 {
            hits.at(at + mask.trailing_zeros() as usize);
            mask &= mask - 1;
        }
        at += 32;
    }
    hits.scalar_from(at)
}
