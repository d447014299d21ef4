//! The read-bandwidth probes that the benches compare every reduction with.
//!
//! Wrapping sums of `u64` words, cut into chunks over the same thread pool the reductions
//! use. They are plain Rust (16 independent accumulators the compiler vectorises; no
//! stridewise kernel in them), so they measure what the memory system gives, not what our
//! kernels give. There are two read loops, because no single loop reaches a machine's limit
//! everywhere: [`read_probe`] reads each chunk once in order; [`read_probe_streams`] reads it
//! as [`STREAMS`] quarters side by side (on a Zen 3 core one stream read ~12 GB/s and four
//! ~15 GB/s, see `walk::STREAMS`). The benches take the best of them (and of numpy's own
//! `min`) as the machine's bandwidth. Both the criterion benches and the Python harness call
//! these functions.

use crate::walk::STREAMS;
use rayon::prelude::*;

/// Words per rayon task: 256 KiB, large enough that scheduling costs nothing (and, as in
/// the kernels' work units of 32 Ki f64, four streams of 64 KiB in [`read_probe_streams`]).
const CHUNK: usize = 1 << 15;

/// Words each stream reads at a time in [`read_probe_streams`]: 128 bytes, two cache lines
/// (a fine interleave, as the kernels' blocks: see `walk::STREAMS`).
const STEP: usize = 16;

/// Read every word once, in order, and return their wrapping sum (returned so the reads
/// cannot be optimised away). Runs on [`crate::get_num_threads`] threads.
pub fn read_probe(words: &[u64]) -> u64 {
    on_pool(words, |c| add_blocks(c, 0))
}

/// [`read_probe`] with each chunk of 256 KiB read as [`STREAMS`] quarters side by side:
/// `STEP` words of each quarter in turn. Returns the same sum.
pub fn read_probe_streams(words: &[u64]) -> u64 {
    on_pool(words, |c| {
        let q = c.len() / (STREAMS * STEP); // steps per stream
        let mut acc = [0u64; STEP];
        for i in 0..q {
            for s in 0..STREAMS {
                let at = (s * q + i) * STEP;
                let b: &[u64; STEP] = c[at..at + STEP].try_into().expect("a whole step");
                for j in 0..STEP {
                    acc[j] = acc[j].wrapping_add(b[j]);
                }
            }
        }
        add_blocks(&c[STREAMS * q * STEP..], fold(&acc, 0))
    })
}

/// The wrapping sum of `words` in chunks of [`CHUNK`] on the reduction pool, `chunk` summing
/// one chunk.
fn on_pool(words: &[u64], chunk: impl Fn(&[u64]) -> u64 + Sync + Send) -> u64 {
    crate::simd::pool().install(|| {
        words
            .par_chunks(CHUNK)
            .map(chunk)
            .reduce(|| 0, u64::wrapping_add)
    })
}

/// `init` plus the wrapping sum of `c`, read in order with `STEP` accumulators.
fn add_blocks(c: &[u64], init: u64) -> u64 {
    let mut acc = [0u64; STEP];
    let mut blocks = c.chunks_exact(STEP);
    for b in &mut blocks {
        for j in 0..STEP {
            acc[j] = acc[j].wrapping_add(b[j]);
        }
    }
    fold(&acc, fold(blocks.remainder(), init))
}

fn fold(words: &[u64], init: u64) -> u64 {
    words.iter().fold(init, |a, &b| a.wrapping_add(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_loops_sum_every_word_with_wraparound() {
        let sizes = [
            0usize,
            1,
            15,
            16,
            17,
            STREAMS * STEP - 1,
            STREAMS * STEP + 3,
            CHUNK - 1,
            CHUNK + 17,
            3 * CHUNK + 5,
        ];
        for n in sizes {
            let w: Vec<u64> = (0..n as u64)
                .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
                .collect();
            let want = w.iter().fold(0u64, |a, &b| a.wrapping_add(b));
            assert_eq!(read_probe(&w), want, "in order, n = {n}");
            assert_eq!(read_probe_streams(&w), want, "streams, n = {n}");
        }
    }

    #[test]
    fn every_word_counts_once_in_the_streamed_loop() {
        // A sum can hide a word read twice and another skipped; with one word set at a time
        // it cannot.
        let n = 2 * CHUNK + STREAMS * STEP * 3 + 7;
        let mut w = vec![0u64; n];
        for i in (0..n).step_by(97).chain([n - 1, CHUNK - 1, CHUNK]) {
            w[i] = 1 << 20;
            assert_eq!(read_probe_streams(&w), 1 << 20, "word {i}");
            w[i] = 0;
        }
    }
}
