//! The read-bandwidth probe that the benches compare every reduction with.
//!
//! A wrapping sum of `u64` words, cut into chunks over the same thread pool the reductions
//! use. It is plain Rust (16 independent accumulators the compiler vectorises; no stridewise
//! kernel in it), so it measures what the memory system gives, not what our kernels give.
//! Both the criterion benches and the Python harness call this one function.

use rayon::prelude::*;

/// Words per rayon task: 256 KiB, large enough that scheduling costs nothing.
const CHUNK: usize = 1 << 15;

/// Read every word once and return their wrapping sum (returned so the reads cannot be
/// optimised away). Runs on [`crate::get_num_threads`] threads.
pub fn read_probe(words: &[u64]) -> u64 {
    crate::simd::pool().install(|| {
        words
            .par_chunks(CHUNK)
            .map(|c| {
                let mut acc = [0u64; 16];
                let mut blocks = c.chunks_exact(16);
                for b in &mut blocks {
                    for j in 0..16 {
                        acc[j] = acc[j].wrapping_add(b[j]);
                    }
                }
                let tail = blocks
                    .remainder()
                    .iter()
                    .fold(0u64, |a, &b| a.wrapping_add(b));
                acc.iter().fold(tail, |a, &b| a.wrapping_add(b))
            })
            .reduce(|| 0, u64::wrapping_add)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_every_word_with_wraparound() {
        for n in [0usize, 1, 15, 16, 17, CHUNK - 1, CHUNK + 17, 3 * CHUNK + 5] {
            let w: Vec<u64> = (0..n as u64)
                .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
                .collect();
            let want = w.iter().fold(0u64, |a, &b| a.wrapping_add(b));
            assert_eq!(read_probe(&w), want, "n = {n}");
        }
    }
}
