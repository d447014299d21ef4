//! argmin / argmax and nanargmin / nanargmax: the position of the best element.
//!
//! Semantics (numpy's, which is the specification):
//! - The answer is an index in the **logical** order: along the axis, or for a whole-array
//!   reduction the flat index in C order of the array as numpy shows it, whatever the memory
//!   layout (transposed, reversed, padded, stepped).
//! - The **first** occurrence of the best value wins. Values that compare equal tie (so
//!   `-0.0` and `0.0` tie, and the first of them wins).
//! - argmin / argmax: a NaN is better than any number, and the first NaN wins.
//! - nanargmin / nanargmax: a NaN counts as the worst value (`+inf` for min, `-inf` for max),
//!   exactly numpy's `_replace_nan` then argmin/argmax, so `nanargmax([nan, -inf])` is 0 as in
//!   numpy; a slice with no number at all is an error ("All-NaN slice encountered").
//! - bool (read as bytes): a nonzero byte is true, whatever its value.
//! - An empty slice is an error, even when there are no outputs (numpy's
//!   "attempt to get argmax of an empty sequence").
//!
//! How (one reading of the data, and no ordering problem to solve afterwards):
//! - Every walk goes in the logical order, so "first" is simply "first visited". Lines
//!   (a whole array's innermost logical axis after merging axes contiguous together, or the
//!   reduced axis of each output) are read in place when their stride is 1, and copied
//!   `CHUNK` elements at a time into a buffer on the stack otherwise (the order the logical
//!   walk needs is the order of the copy).
//! - **Lane path** (`scan`): `CHUNK` elements at a time, the best value per lane with the
//!   min/max kernel's compare-and-select, and a NaN flag per lane; at the end of the chunk the
//!   lanes' best, compared with the best so far; only when the chunk improves on it is the
//!   chunk searched again (in L1) for the first element equal to its best. Random data improves
//!   `ln(chunks)` times, so the cost is the min/max kernel's. The first NaN under argmin/argmax
//!   ends the line: nothing after it can win.
//! - **Vertical path** (`ArgTile`): when a kept axis has stride 1 and the reduced one not ±1
//!   (`argmax(a, axis=0)` of a C-order matrix), rows of up to `ATILE` outputs are read in the
//!   order of the reduced axis; each output keeps its best value and the row it came from
//!   (a counter as wide as the element, so a compare's mask selects it without widening;
//!   blocks of at most `TALLY_MAX` rows, merged into 64-bit positions between them).
//! - Units (pieces of a line, groups of outputs, tiles) are independent; their answers merge
//!   in logical order, the earlier winning ties, so every thread count gives the same answer.

use super::{tree, LANES, ROWS};
use crate::element::sealed::Sealed;
use crate::element::Element;
use crate::walk::{stream_blocks, STREAMS};
use pulp::Simd;

/// Elements of a line scanned between two comparisons with the best so far (in L1; the
/// lane loop is the min/max kernel's).
pub(crate) const CHUNK: usize = 32 * LANES;

/// Outputs of a vertical tile: its best values, rows and flags (about 24 bytes per f64
/// output) stay in L1 with the row being read.
pub(crate) const ATILE: usize = 512;

/// A reduction reading at least this many bytes is taken to come from memory (a Zen 3 or
/// Zen 5 CCD's L3 holds 32 MiB): see [`scan`]. At 4 MiB, argmax of 1e6 f64 (8 MB, in L3
/// when benchmarked) took the quarters' path at 0.55x numpy on one thread (0.31 ms against
/// 0.17; max 0.12).
const MEMORY_BYTES: usize = 32 << 20;

/// Whether a reduction of `elements` `T`s reads from memory ([`scan`]'s `memory`).
pub(crate) fn from_memory<T>(elements: usize) -> bool {
    elements.saturating_mul(std::mem::size_of::<T>()) >= MEMORY_BYTES
}

/// No position yet.
const NONE: u64 = u64::MAX;

/// How elements are compared: as themselves, NaN as the worst value (nanarg*), or as truth
/// values (bool bytes).
pub(crate) const PLAIN: u8 = 0;
/// NaN is the worst value: numpy's nanargmin / nanargmax.
pub(crate) const NAN_WORST: u8 = 1;
/// Bytes as truth values: any nonzero byte is the same "true".
pub(crate) const TRUTH: u8 = 2;

/// The best key of a line so far and the logical position of its first occurrence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Found<T> {
    /// The best key (NaN once `nan`).
    pub best: T,
    /// Position of its first occurrence, `NONE` before any element.
    pub pos: u64,
    /// argmin/argmax: `pos` is the line's first NaN (final).
    pub nan: bool,
    /// nanargmin/nanargmax (`NAN_WORST`): a number (not NaN) was seen. Unused otherwise.
    pub seen: bool,
}

impl<T: Element> Found<T> {
    pub(crate) fn empty() -> Self {
        Self {
            best: T::ZERO,
            pos: NONE,
            nan: false,
            seen: false,
        }
    }

    /// The answer of the union of two pieces of a line, `self` the earlier one.
    pub(crate) fn then<const MAX: bool>(self, b: Self) -> Self {
        let seen = self.seen | b.seen;
        let pick = if self.pos == NONE || b.pos == NONE {
            if self.pos == NONE {
                b
            } else {
                self
            }
        } else if self.nan {
            self
        } else if b.nan || better::<T, MAX>(b.best, self.best) {
            b
        } else {
            self
        };
        Self { seen, ..pick }
    }

    /// Whether the rest of the line cannot change the answer: a NaN under argmin/argmax, or
    /// a best key that nothing after it can beat (only tie) where no NaN can: an integer's
    /// extreme, `true`, an infinity under nanargmin/nanargmax. (numpy's argmax of a bool
    /// array stops at its first `true`; scanning on took 1000x its time.)
    pub(crate) fn is_final<const MAX: bool, const K: u8>(&self) -> bool {
        // The best key there is: the worst of the other comparison.
        let top = if MAX {
            T::MIN_IDENTITY
        } else {
            T::MAX_IDENTITY
        };
        self.nan || (!(T::IS_FLOAT && K == PLAIN) && self.pos != NONE && self.best == top)
    }
}

/// The identity of the comparison: the worst key.
#[inline(always)]
pub(crate) fn worst<T: Element, const MAX: bool>() -> T {
    if MAX {
        T::MAX_IDENTITY
    } else {
        T::MIN_IDENTITY
    }
}

/// `x` strictly better than `b` (false when either is NaN).
#[inline(always)]
fn better<T: PartialOrd, const MAX: bool>(x: T, b: T) -> bool {
    if MAX {
        x > b
    } else {
        x < b
    }
}

/// The value compared for element `x`.
#[inline(always)]
fn key<T: Element, const MAX: bool, const K: u8>(x: T) -> T {
    match K {
        NAN_WORST if T::IS_FLOAT && x.is_nan() => worst::<T, MAX>(),
        // Any nonzero byte is "true"; the type's largest value stands for it.
        TRUTH if x != T::ZERO => T::MIN_IDENTITY,
        _ => x,
    }
}

/// The lane flag of element `x`: under `PLAIN` floats "is NaN", under `NAN_WORST` "is a
/// number"; never set for integers.
#[inline(always)]
fn flag_of<T: Element, const K: u8>(x: T) -> <T as Sealed>::Flag {
    let f = T::IS_FLOAT
        && match K {
            NAN_WORST => !x.is_nan(),
            _ => x.is_nan(),
        };
    f.into()
}

/// Flags kept by the lane path: fewer than the lanes (each block's flags OR into `FLAGS`
/// of them), so that with AVX2 the 32 f64 lanes' best values and the flags fit the 16
/// vector registers.
const FLAGS: usize = 8;

/// One block of `N` elements into `N` lanes, their flags ORed into `F` (a named function: a
/// closure would not inherit the SIMD level's target features if left out of line).
#[inline(always)]
fn lane_step<T: Element, const MAX: bool, const K: u8, const N: usize, const F: usize>(
    best: &mut [T; N],
    flag: &mut [<T as Sealed>::Flag; F],
    b: &[T; N],
) {
    for j in 0..N {
        let x = key::<T, MAX, K>(b[j]);
        best[j] = if better::<T, MAX>(x, best[j]) {
            x
        } else {
            best[j]
        };
    }
    or_flags::<T, K, N, F>(flag, b);
    // Not vectorised across blocks (see `opaque_step`): the loops calling this one took
    // gathers for 64-bit integers (argmax of 1e5 int64 at a third of the speed, 1e6 at 0.7x
    // numpy); for the other types the statement changed nothing measured.
    super::opaque_step();
}

/// The flags of block `b` ORed into `F` accumulators (lane `j` into `j % F`).
#[inline(always)]
fn or_flags<T: Element, const K: u8, const N: usize, const F: usize>(
    flag: &mut [<T as Sealed>::Flag; F],
    b: &[T; N],
) {
    if T::IS_FLOAT {
        for j in 0..N {
            flag[j % F] = flag[j % F] | flag_of::<T, K>(b[j]);
        }
    }
}

/// The first position in `chunk` whose key is `m` (which one of them has): a block of
/// `LANES` at a time is tested with vector compares, then the block that holds it is
/// searched.
#[inline(always)]
fn locate<T: Element, const MAX: bool, const K: u8>(chunk: &[T], m: T) -> usize {
    let mut blocks = chunk.chunks_exact(LANES);
    let mut at = 0;
    for b in blocks.by_ref() {
        let b: &[T; LANES] = b.try_into().expect("chunks_exact yields LANES");
        let mut hit = <T as Sealed>::Flag::default();
        for j in 0..LANES {
            hit = hit | (key::<T, MAX, K>(b[j]) == m).into();
        }
        if hit != <T as Sealed>::Flag::default() {
            break;
        }
        at += LANES;
    }
    at + chunk[at..]
        .iter()
        .position(|&x| key::<T, MAX, K>(x) == m)
        .expect("the chunk's best is the key of one of its elements")
}

/// The best key of `chunk` (never NaN; the worst key if every element is NaN) and whether
/// any lane's flag was set. The lane loop of the min/max kernel.
#[inline(always)]
fn chunk_best<T: Element, const MAX: bool, const K: u8>(chunk: &[T]) -> (T, bool) {
    let w = worst::<T, MAX>();
    let mut best = [w; LANES];
    let mut flag = [<T as Sealed>::Flag::default(); FLAGS];
    let mut blocks = chunk.chunks_exact(LANES);
    for b in blocks.by_ref() {
        lane_step::<T, MAX, K, LANES, FLAGS>(
            &mut best,
            &mut flag,
            b.try_into().expect("chunks_exact yields LANES"),
        );
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        // Filled with a value that changes no lane: the worst key (a number, so under
        // NAN_WORST it would set "seen": NaN there instead, which is then not a number).
        let pad = if K == NAN_WORST && T::IS_FLOAT {
            T::NAN
        } else {
            w
        };
        let mut last = [pad; LANES];
        last[..rest.len()].copy_from_slice(rest);
        lane_step::<T, MAX, K, LANES, FLAGS>(&mut best, &mut flag, &last);
    }
    let any = flag.iter().any(|&f| f != <T as Sealed>::Flag::default());
    (
        tree(best, |a, b| if better::<T, MAX>(b, a) { b } else { a }),
        any,
    )
}

/// Lines this short are scanned element by element ([`scan_short`]): the lane loop's
/// padding, tree and search cost more than the elements.
pub(crate) const SHORT: usize = 16;

/// The answer of a whole short line (`ptr + i * stride`, `0 < n`, short: `n <= SHORT`, or
/// the fewer than `LANES` elements after a chunk's blocks), one element at a time: the same
/// answer as [`scan`] (first best key; under `PLAIN` the first NaN).
///
/// # Safety
/// `ptr + i * stride` must be a valid `T` for every `i < n`.
#[inline(always)]
pub(crate) unsafe fn scan_short<T: Element, const MAX: bool, const K: u8>(
    ptr: *const T,
    n: usize,
    stride: isize,
) -> Found<T> {
    let mut f = Found::empty();
    for i in 0..n {
        // SAFETY: i < n (our contract).
        let x = unsafe { *ptr.offset(i as isize * stride) };
        if T::IS_FLOAT && K == PLAIN && x.is_nan() {
            return Found {
                best: x,
                pos: i as u64,
                nan: true,
                seen: false,
            };
        }
        f.seen |= K == NAN_WORST && T::IS_FLOAT && !x.is_nan();
        let k = key::<T, MAX, K>(x);
        if i == 0 || better::<T, MAX>(k, f.best) {
            (f.best, f.pos) = (k, i as u64);
        }
    }
    f
}

/// Add the line piece `data`, whose first element is at logical position `start`, to `f`.
/// Returns true when the answer is final ([`Found::is_final`]). `memory`: the reduction
/// reads more than the caches hold ([`from_memory`]).
#[inline(always)]
pub(crate) fn scan<S: Simd, T: Element, const MAX: bool, const K: u8>(
    simd: S,
    f: &mut Found<T>,
    data: &[T],
    start: u64,
    memory: bool,
) -> bool {
    if K == TRUTH {
        return scan_truth::<T, MAX>(f, data, start);
    }
    // Long pieces as STREAMS quarters side by side, each quarter's lanes one AVX2 vector a
    // step (two of two-byte elements), so that the lanes and flags of the four fit AVX2's
    // 16 registers (32 f64 lanes a quarter spilled).
    // Elements of 8 bytes, and 4-byte integers, only when `memory` says the line comes from
    // memory: the compiler then vectorises across the quarters (a transpose a step), and
    // argmax of 1e5 f64 from L3 took 1.6x the time while 1e7 took 0.75x; on an AVX-512
    // core, int32 argmax of 1e5 in L2 read 23 GB/s as quarters, 43 in order (f32 39 and 35:
    // f32 keeps the quarters).
    if stream_blocks::<T, CHUNK>(data.len()) > 0 {
        // (`const` conditions: only the taken call is compiled for each type.)
        if const { std::mem::size_of::<T>() <= 2 } {
            return scan_streams::<S, T, MAX, K, LANES, FLAGS>(simd, f, data, start);
        } else if (memory || T::IS_FLOAT) && const { std::mem::size_of::<T>() == 4 } {
            return scan_streams::<S, T, MAX, K, { LANES / 4 }, FLAGS>(simd, f, data, start);
        } else if memory {
            return scan_streams::<S, T, MAX, K, { LANES / 8 }, { FLAGS / 2 }>(
                simd, f, data, start,
            );
        }
    }
    scan_in_order::<S, T, MAX, K>(simd, f, data, start)
}

/// [`scan`] of bool bytes (`K == TRUTH`): a byte whose key is the best there is (a nonzero
/// byte under argmax, a zero one under argmin) ends the line, so the piece is searched for
/// the first such byte, blocks of bytes at a time (vector compares ORed over the block), and
/// nothing after it is read, as numpy's own argmax of bools stops there. A piece without one
/// has one key throughout: its answer is its first byte. (Through the lanes, a whole chunk
/// was read before the answer was seen to be final: argmax(a, axis=1) of (1000, 100) bools
/// that are mostly true took 20.6 us against numpy's 3.6, one Zen 4 thread.)
#[inline(always)]
fn scan_truth<T: Element, const MAX: bool>(f: &mut Found<T>, data: &[T], start: u64) -> bool {
    if data.is_empty() {
        return f.is_final::<MAX, TRUTH>();
    }
    let hit = |x: T| (x != T::ZERO) == MAX;
    // Whether the `N` elements from `at` hold a hit: a fold without an early exit, which the
    // compiler makes vector code. (A function, not a closure: see `lane_step`.)
    #[inline(always)]
    fn any_hit<T: Element, const MAX: bool, const N: usize>(data: &[T], at: usize) -> bool {
        let b: &[T; N] = data[at..at + N].try_into().expect("N elements");
        b.iter().fold(false, |a, &x| a | ((x != T::ZERO) == MAX))
    }
    // Blocks of `4 * TRUTH_BLOCK` to find the block that holds the first hit, then blocks of
    // `TRUTH_BLOCK` in it, then its elements.
    let mut at = 0;
    while at + 4 * TRUTH_BLOCK <= data.len() && !any_hit::<T, MAX, { 4 * TRUTH_BLOCK }>(data, at) {
        at += 4 * TRUTH_BLOCK;
    }
    while at + TRUTH_BLOCK <= data.len() && !any_hit::<T, MAX, TRUTH_BLOCK>(data, at) {
        at += TRUTH_BLOCK;
    }
    let k = data[at..]
        .iter()
        .position(|&x| hit(x))
        .map_or(0, |k| at + k);
    *f = f.then::<MAX>(Found {
        best: key::<T, MAX, TRUTH>(data[k]),
        pos: start + k as u64,
        nan: false,
        seen: false,
    });
    f.is_final::<MAX, TRUTH>()
}

/// Bytes [`scan_truth`] tests at a time: one AVX-512 vector, two of AVX2.
const TRUTH_BLOCK: usize = 64;

/// [`scan`] chunk after chunk./// [`scan`] chunk after chunk.
#[inline(always)]
fn scan_in_order<S: Simd, T: Element, const MAX: bool, const K: u8>(
    simd: S,
    f: &mut Found<T>,
    data: &[T],
    start: u64,
) -> bool {
    let mut base = start;
    for chunk in data.chunks(CHUNK) {
        if f.pos == NONE && chunk.len() >= LANES && std::mem::size_of::<T>() > 1 {
            // The first chunk always improves on "nothing yet": one pass that keeps each
            // lane's block instead of a pass and a search. Measured on one AVX-512 core,
            // argmax(a, axis=1) of 316x316 and 1000x100 against the two passes: int64 2-3x
            // with 128 bytes of lanes; f32 1.1-1.6x with 64 (128, or two sets of 64, were
            // kept in memory: 0.2-0.6x); f64 1.1-1.6x with two sets of 64 bytes (one set is
            // one compare-and-select chain, which waits on its latency); bytes keep the two
            // passes, which read 32 lanes a step (one pass took twice their time). 2-byte
            // integers take 16 lanes too: with 32, argmax(a, axis=1) of a 300x300 int16 ran
            // at the scalar level's speed at AVX2 (256 us, numpy 45; 16 lanes: 24 us; a
            // Zen 1 core, not measured at AVX-512).
            // Four vectors of lanes at AVX-512 (a C loop of the same compares: 316 int64 rows
            // of 304 elements in 7.9 us with four chains against 12.2 with two) is not
            // reachable through this autovectorised code: one Zen 4 thread, argmax(a, axis=1)
            // of 316x316 and 1000x100, against this code: 32 int64 / 64 f32 lanes as one set
            // (the rest a vector at a time) 0.27-0.53x; two or four sets of the widths here
            // 0.07-0.3x (the sets kept in memory, a lane at a time), f64 0.83-0.93x. Hence
            // explicit vector code, tried first: [`first_chunk`].
            let v = if K == PLAIN {
                // SAFETY: `chunk` is `chunk.len()` consecutive elements.
                unsafe { T::arg_first::<S, MAX>(simd, chunk.as_ptr(), chunk.len()) }
            } else {
                None
            };
            let g = if let Some((best, pos)) = v {
                Found {
                    best,
                    pos: base + pos,
                    nan: false,
                    seen: false,
                }
            } else if const { T::IS_FLOAT && std::mem::size_of::<T>() == 8 } {
                chunk_found::<T, MAX, K, { LANES / 4 }, true>(chunk, base)
            } else if const { T::IS_FLOAT || std::mem::size_of::<T>() >= 2 } {
                chunk_found::<T, MAX, K, { LANES / 2 }, false>(chunk, base)
            } else {
                chunk_found::<T, MAX, K, LANES, false>(chunk, base)
            };
            *f = f.then::<MAX>(g);
            if f.is_final::<MAX, K>() {
                return true;
            }
            base += chunk.len() as u64;
            continue;
        }
        let (m, flag) = chunk_best::<T, MAX, K>(chunk);
        if absorb::<T, MAX, K>(f, chunk, base, m, flag) {
            return true;
        }
        base += chunk.len() as u64;
    }
    false
}

/// The answer of one chunk (`LANES <= chunk.len() <= CHUNK`) whose first element is at
/// logical position `base`, in one pass over `N` lanes: each lane keeps its best key and
/// the block it came from (a tally as wide as the element, so that the compare's mask
/// selects it; a chunk has at most `CHUNK / N` blocks, fewer than any tally holds; with
/// `TWO`, two sets of lanes take the even and the odd blocks); the lanes then merge,
/// the smallest position among the lanes holding the best key winning (the first
/// occurrence). The elements after the last whole block are scanned one by one (as one
/// more block, padded, copied on the stack: 1.2x the time of `argmax(a, axis=1)` of a
/// 1000x100 f64, 1.3x of a 316x316 f32). A NaN
/// under argmin/argmax is located afterwards (rare): the first one in the chunk.
/// (For lines of one chunk, `argmax(a, axis=1)` of a 316x316 f64, [`chunk_best`] and
/// [`locate`] read each line twice and took 1.7x numpy's time.)
#[inline(always)]
fn chunk_found<T: Element, const MAX: bool, const K: u8, const N: usize, const TWO: bool>(
    chunk: &[T],
    base: u64,
) -> Found<T> {
    const { assert!(CHUNK / N < u8::MAX as usize && N <= LANES) };
    debug_assert!(chunk.len() >= LANES && chunk.len() <= CHUNK);
    let w = worst::<T, MAX>();
    // Two sets of lanes (`TWO`), for even and odd blocks: two independent compare-and-select
    // chains, each set small enough to stay in registers.
    let (mut best, mut best2) = ([w; N], [w; N]);
    let zero = <T as Sealed>::Tally::default();
    let one = <T as Sealed>::Tally::from(true);
    // (Each set's first block: 0, and 1 for the odd set.)
    let (mut at, mut at2) = ([zero; N], [one; N]);
    let mut flag = [<T as Sealed>::Flag::default(); FLAGS];
    // Floats under argmin/argmax look for a NaN by a sum of the chunk's elements per lane
    // (`nan_probe`: one addition a vector) rather than by the lane flags (a compare, and the
    // mask made a 0/1 lane and ORed: five instructions a pair of vectors at AVX-512). A NaN
    // sum without a NaN element (infinities of both signs, an overflow) only costs a search.
    // The sums kept as `FLAGS` lanes, as the flags are (each block's lanes added in pairs
    // first, so that one addition a block waits on the one before): with a lane per
    // element, AVX2's 16 registers held neither sets' lanes nor the sums, and the loop
    // took 1.1x the flags' time.
    let probe = T::IS_FLOAT && K == PLAIN;
    const { assert!(N % FLAGS == 0) };
    let mut sum = [T::ZERO; FLAGS];
    let mut r = zero;
    let mut blocks = chunk.chunks_exact(N);
    if TWO {
        let mut pairs = chunk.chunks_exact(2 * N);
        for p in pairs.by_ref() {
            let (b0, b1) = p.split_at(N);
            let b0: &[T; N] = b0.try_into().expect("N elements");
            let b1: &[T; N] = b1.try_into().expect("N elements");
            track::<T, MAX, K, N>(&mut best, &mut at, &mut flag, b0, r, !probe);
            track::<T, MAX, K, N>(&mut best2, &mut at2, &mut flag, b1, r + one, !probe);
            if probe {
                let mut t = [T::ZERO; FLAGS];
                for j in 0..FLAGS {
                    t[j] = b0[j].nan_probe(b1[j]);
                }
                for i in (FLAGS..N).step_by(FLAGS) {
                    for j in 0..FLAGS {
                        t[j] = t[j].nan_probe(b0[i + j].nan_probe(b1[i + j]));
                    }
                }
                for j in 0..FLAGS {
                    sum[j] = sum[j].nan_probe(t[j]);
                }
            }
            r = r + one + one;
        }
        blocks = pairs.remainder().chunks_exact(N);
    }
    for b in blocks.by_ref() {
        let b: &[T; N] = b.try_into().expect("chunks_exact yields N");
        track::<T, MAX, K, N>(&mut best, &mut at, &mut flag, b, r, !probe);
        if probe {
            for j in 0..N {
                sum[j % FLAGS] = sum[j % FLAGS].nan_probe(b[j]);
            }
        }
        r = r + one;
    }
    let any = if probe {
        sum.iter().any(|x| x.is_nan())
    } else {
        flag.iter().any(|&x| x != <T as Sealed>::Flag::default())
    };
    if probe && any {
        // (A NaN sum with no NaN element goes on as a chunk without one.)
        if let Some(k) = chunk.iter().position(|x| x.is_nan()) {
            return Found {
                best: T::NAN,
                pos: base + k as u64,
                nan: true,
                seen: false,
            };
        }
    }
    // A lane that never improved on the worst key holds it from its set's first block,
    // which is then the first occurrence of the worst key in that lane and set.
    let pick = |a: T, b: T| if better::<T, MAX>(b, a) { b } else { a };
    let m = if TWO {
        pick(tree(best, pick), tree(best2, pick))
    } else {
        tree(best, pick)
    };
    let mut pos = [NONE; N];
    for j in 0..N {
        let (p, p2): (u64, u64) = (at[j].into(), at2[j].into());
        let (p, p2) = (p * N as u64 + j as u64, p2 * N as u64 + j as u64);
        pos[j] = if best[j] == m { p } else { NONE };
        if TWO && best2[j] == m {
            pos[j] = pos[j].min(p2);
        }
    }
    let found = Found {
        best: m,
        pos: base + tree(pos, |a, b| a.min(b)),
        nan: false,
        seen: K == NAN_WORST && any,
    };
    let rest = blocks.remainder();
    if rest.is_empty() {
        return found;
    }
    // SAFETY: `rest` is `rest.len()` consecutive elements.
    let mut tail = unsafe { scan_short::<T, MAX, K>(rest.as_ptr(), rest.len(), 1) };
    tail.pos += base + (chunk.len() - rest.len()) as u64;
    found.then::<MAX>(tail)
}

/// The first-chunk search ([`chunk_found`]'s answer) of argmin/argmax in explicit vector
/// code, for the types with vector compares of their own width (f64, f32, i64, i32, u64,
/// u32): four vectors of lanes a step, each an independent compare-and-select chain with
/// the block it came from (a vector of positions, added to once a step). The (at most
/// three) vectors after the last whole step, and the last elements as one vector ending at
/// the chunk's end, go one to a chain (elements seen twice are the same elements at the
/// same positions, so the answer does not change). The chains then merge, the best key winning
/// and, among equal keys, the smaller position; then the lanes. A chunk shorter than `$steps`
/// steps goes to [`short_chunk`] (`$short`) instead. `None` (the caller's search then runs)
/// when, for floats, the lanes' sums say a NaN may be there, or when `$short` says `None`.
///
/// Against `chunk_found`, argmax(a, axis=1), one Zen 4 thread, f32 / f64 / int64 / int32:
/// rows of 316 at AVX-512 1.25x / 1.09x / 1.08x / 1.26x, at AVX2 1.43x / 1.19x / 1.13x /
/// 1.24x. Rows of 100 (too short for this loop where marked, measured with `chunk_found`
/// running there, the ratio within the load-order effect): at AVX-512 (short) / 1.10x /
/// (short) / (short), at AVX2 1.46x / 1.20x / 1.27x / (short).
macro_rules! first_chunk {
    ($name:ident, $short:ident, $t:ty, $v:ident, $tv:ident, $m:ident, $lanes:ident,
     $tally:ty, $iota:ident,
     $splat:ident, $gt:ident, $lt:ident, $sel:ident, $tsplat:ident, $tadd:ident,
     $tsel:ident, $tlt:ident, $and:ident, $or:ident, $not:ident, $probe:ident,
     $steps:literal) => {
        /// See [`first_chunk`].
        ///
        /// # Safety
        /// `ptr .. ptr + len` must be valid, initialised elements; `len <= CHUNK`.
        #[inline(always)]
        pub(crate) unsafe fn $name<S: Simd, const MAX: bool>(
            simd: S,
            ptr: *const $t,
            len: usize,
        ) -> Option<($t, u64)> {
            let w = S::$lanes;
            // At least `$steps` whole steps: shorter chunks leave the chains too little to
            // pay for their merge. argmax(a, axis=1) of rows of 100, one Zen 4 thread
            // (AVX-512), against `chunk_found`: int64 (one and a half steps) 0.97x, int32
            // 0.95x, f64 1.11x, f32 0.99x; rows of 316 (2.5 to 10 steps) 1.06-1.26x. Shorter
            // chunks take the two passes of `short_chunk`, which keep no positions (all
            // chunks this loop takes: 1000x100 f64 at 0.97x, (316, 316) f64 0.80x; int64
            // the same at 316).
            if len < $steps * 4 * w || w > 16 {
                // SAFETY: forwarded from this function's contract.
                return unsafe { $short::<S, MAX>(simd, ptr, len) };
            }
            debug_assert!(len <= CHUNK);
            // (Macros, not closures: a closure left out of line would not have the level's
            // target features, and each vector operation in it would be a call: 4-8x the
            // time at AVX2.)
            macro_rules! vbetter {
                ($x:expr, $bb:expr) => {
                    if MAX {
                        simd.$gt($x, $bb)
                    } else {
                        simd.$lt($x, $bb)
                    }
                };
            }
            // `w` elements at `i`; every use below has `i + w <= len`.
            macro_rules! load {
                ($i:expr) => {
                    // SAFETY: `i + w <= len` at every use: the `w` elements read lie in the
                    // chunk (our contract); pulp's vectors are plain arrays, read unaligned.
                    unsafe { ptr.add($i).cast::<S::$v>().read_unaligned() }
                };
            }
            let wv = simd.$splat(worst::<$t, MAX>());
            let (mut b0, mut b1, mut b2, mut b3) = (wv, wv, wv, wv);
            let none = simd.$tsplat(0);
            let (mut t0, mut t1, mut t2, mut t3) = (none, none, none, none);
            let (mut c, step) = (none, simd.$tsplat((4 * w) as $tally));
            let (mut s0, mut s1) = (simd.$splat(<$t>::default()), simd.$splat(<$t>::default()));
            let mut i = 0;
            while i + 4 * w <= len {
                let (x0, x1, x2, x3) = (load!(i), load!(i + w), load!(i + 2 * w), load!(i + 3 * w));
                let (m0, m1, m2, m3) = (
                    vbetter!(x0, b0),
                    vbetter!(x1, b1),
                    vbetter!(x2, b2),
                    vbetter!(x3, b3),
                );
                b0 = simd.$sel(m0, x0, b0);
                b1 = simd.$sel(m1, x1, b1);
                b2 = simd.$sel(m2, x2, b2);
                b3 = simd.$sel(m3, x3, b3);
                t0 = simd.$tsel(m0, c, t0);
                t1 = simd.$tsel(m1, c, t1);
                t2 = simd.$tsel(m2, c, t2);
                t3 = simd.$tsel(m3, c, t3);
                s0 = $probe(simd, s0, $probe(simd, x0, x1));
                s1 = $probe(simd, s1, $probe(simd, x2, x3));
                c = simd.$tadd(c, step);
                i += 4 * w;
            }
            // The vectors after the last whole step (at most three), then the last `w`
            // elements, one to a chain, each chain's position vector set so that `at`
            // below gives their positions (wrapping: chain `k` adds `k * w` back).
            macro_rules! one {
                ($b:ident, $tt:ident, $k:expr, $at:expr) => {{
                    let x = load!($at);
                    let m = vbetter!(x, $b);
                    $b = simd.$sel(m, x, $b);
                    let t = ($at as $tally).wrapping_sub(($k * w) as $tally);
                    $tt = simd.$tsel(m, simd.$tsplat(t), $tt);
                    s0 = $probe(simd, s0, x);
                }};
            }
            let whole = (len - i) / w;
            let last = (i + whole * w < len).then_some(len - w);
            if whole > 0 {
                one!(b0, t0, 0, i);
            }
            if whole > 1 {
                one!(b1, t1, 1, i + w);
            }
            if whole > 2 {
                one!(b2, t2, 2, i + 2 * w);
            }
            if let Some(at) = last {
                match whole {
                    0 => one!(b0, t0, 0, at),
                    1 => one!(b1, t1, 1, at),
                    2 => one!(b2, t2, 2, at),
                    _ => one!(b3, t3, 3, at),
                }
            }
            #[allow(clippy::eq_op)]
            if lanes($probe(simd, s0, s1), <$t>::default())[..w]
                .iter()
                .any(|x| x != x)
            {
                return None;
            }
            // SAFETY: `$iota` holds 16 positions, `w <= 16`.
            let iota = unsafe { $iota.as_ptr().cast::<S::$tv>().read_unaligned() };
            macro_rules! at {
                ($t0:expr, $k:expr) => {
                    simd.$tadd(simd.$tadd($t0, iota), simd.$tsplat(($k * w) as $tally))
                };
            }
            // The better of two (key, position) lanes: the better key, or the earlier
            // position of an equal key (no NaN here: neither better means equal).
            macro_rules! merge {
                (($ba:expr, $pa:expr), ($bb:expr, $pb:expr)) => {{
                    let (ba, pa, bb, pb) = ($ba, $pa, $bb, $pb);
                    let (gb, ga) = (vbetter!(bb, ba), vbetter!(ba, bb));
                    let take = simd.$or(gb, simd.$and(simd.$not(ga), simd.$tlt(pb, pa)));
                    (simd.$sel(take, bb, ba), simd.$tsel(take, pb, pa))
                }};
            }
            let (b01, p01) = merge!((b0, at!(t0, 0)), (b1, at!(t1, 1)));
            let (b23, p23) = merge!((b2, at!(t2, 2)), (b3, at!(t3, 3)));
            let (b, p) = merge!((b01, p01), (b23, p23));
            // The lanes past `w` hold the worst key at no position: they change nothing.
            let (bs, ps) = (lanes(b, worst::<$t, MAX>()), lanes(p, <$tally>::MAX));
            // (Trees of selects, not a loop of branches on random data.)
            let m = tree(bs, |a, b| if better::<$t, MAX>(b, a) { b } else { a });
            let cand: [$tally; 16] =
                std::array::from_fn(|j| if bs[j] == m { ps[j] } else { <$tally>::MAX });
            Some((m, tree(cand, |a, b| a.min(b)) as u64))
        }
    };
}

/// [`first_chunk`]'s answer for chunks too short for its chains (at least one step of four
/// vectors, fewer than `$steps` steps), in two passes over the chunk (in L1): the best key,
/// by four compare-and-select chains of keys alone, merged and reduced across the lanes; then
/// the first element equal to it, four vectors a test. No positions are kept, so the merge at
/// the end is one tree of keys, and the second pass stops at the answer. `None` when the
/// chunk is shorter than a step or, for floats, when the lanes' sums say a NaN may be there.
///
/// Against `chunk_found`, which took these chunks before, argmax(a, axis=1) of a 1000x100
/// array (standard normal values plus one), one Zen 4 thread at AVX-512: int64 1.15x, int32
/// 1.29x, f32 1.17x (f64 rows of 100 are long enough for [`first_chunk`]); (316, 32) and
/// (316, 64) int64 of random values in +-1e9: 1.07x and 1.11x.
macro_rules! short_chunk {
    ($name:ident, $t:ty, $v:ident, $lanes:ident, $splat:ident, $gt:ident, $lt:ident,
     $sel:ident, $eq:ident, $or:ident, $first:ident, $probe:ident) => {
        /// See [`short_chunk`].
        ///
        /// # Safety
        /// `ptr .. ptr + len` must be valid, initialised elements; `len <= CHUNK`.
        #[inline(always)]
        pub(crate) unsafe fn $name<S: Simd, const MAX: bool>(
            simd: S,
            ptr: *const $t,
            len: usize,
        ) -> Option<($t, u64)> {
            let w = S::$lanes;
            if len < 4 * w || w > 16 {
                return None;
            }
            debug_assert!(len <= CHUNK);
            macro_rules! vbetter {
                ($x:expr, $bb:expr) => {
                    if MAX {
                        simd.$gt($x, $bb)
                    } else {
                        simd.$lt($x, $bb)
                    }
                };
            }
            macro_rules! load {
                ($i:expr) => {
                    // SAFETY: `i + w <= len` at every use: the `w` elements read lie in the
                    // chunk (our contract); pulp's vectors are plain arrays, read unaligned.
                    unsafe { ptr.add($i).cast::<S::$v>().read_unaligned() }
                };
            }
            macro_rules! keep {
                ($b:ident, $x:expr) => {{
                    let x = $x;
                    $b = simd.$sel(vbetter!(x, $b), x, $b);
                }};
            }
            let wv = simd.$splat(worst::<$t, MAX>());
            let (mut b0, mut b1, mut b2, mut b3) = (wv, wv, wv, wv);
            let (mut s0, mut s1) = (simd.$splat(<$t>::default()), simd.$splat(<$t>::default()));
            let mut i = 0;
            while i + 4 * w <= len {
                let (x0, x1, x2, x3) = (load!(i), load!(i + w), load!(i + 2 * w), load!(i + 3 * w));
                keep!(b0, x0);
                keep!(b1, x1);
                keep!(b2, x2);
                keep!(b3, x3);
                s0 = $probe(simd, s0, $probe(simd, x0, x1));
                s1 = $probe(simd, s1, $probe(simd, x2, x3));
                i += 4 * w;
            }
            // The rest, a vector at a time, and the last `w` elements (read twice: the best
            // key does not change).
            while i + w <= len {
                let x = load!(i);
                keep!(b0, x);
                s0 = $probe(simd, s0, x);
                i += w;
            }
            if i < len {
                let x = load!(len - w);
                keep!(b1, x);
                s1 = $probe(simd, s1, x);
            }
            #[allow(clippy::eq_op)]
            if lanes($probe(simd, s0, s1), <$t>::default())[..w]
                .iter()
                .any(|x| x != x)
            {
                return None;
            }
            keep!(b0, b1);
            keep!(b2, b3);
            keep!(b0, b2);
            let m = tree(lanes(b0, worst::<$t, MAX>()), |a, b| {
                if better::<$t, MAX>(b, a) {
                    b
                } else {
                    a
                }
            });
            // The first element equal to `m` (one is: no NaN, and `m` is an element's key).
            let mv = simd.$splat(m);
            let mut i = 0;
            while i + 4 * w <= len {
                let (e0, e1, e2, e3) = (
                    simd.$eq(load!(i), mv),
                    simd.$eq(load!(i + w), mv),
                    simd.$eq(load!(i + 2 * w), mv),
                    simd.$eq(load!(i + 3 * w), mv),
                );
                if simd.$first(simd.$or(simd.$or(e0, e1), simd.$or(e2, e3))) < w {
                    break;
                }
                i += 4 * w;
            }
            loop {
                let at = i.min(len - w);
                let e = simd.$eq(load!(at), mv);
                let k = first_lane(e, simd.$first(e));
                if k < w {
                    return Some((m, (at + k) as u64));
                }
                debug_assert!(at + w < len, "the chunk holds its best key");
                i += w;
            }
        }
    };
}

/// A vector's lanes as an array of 16, the lanes past the vector's `fill` (the explicit
/// first-chunk searches store their vectors so, then reduce them with [`tree`]).
#[inline(always)]
fn lanes<V: Copy, T: Copy>(v: V, fill: T) -> [T; 16] {
    const { assert!(std::mem::size_of::<V>() <= 16 * std::mem::size_of::<T>()) };
    let mut out = [fill; 16];
    // SAFETY: `V` fits in `out` (asserted); pulp's vectors are plain arrays of their lanes,
    // written unaligned over the first of them.
    unsafe { out.as_mut_ptr().cast::<V>().write_unaligned(v) };
    out
}

/// The first true lane of a mask, given pulp's answer `pulp_first` for it. pulp 0.22's
/// `first_true_m64s`/`m32s` count an AVX-512 bit mask's leading zeros, from the wrong end:
/// for those masks (one or two bytes, bit `j` lane `j`) the trailing zeros, capped at the
/// mask's bits, which is the lane count, as pulp caps "none" (8 lanes of f64, 16 of f32);
/// the vector masks of the other levels take pulp's answer, which reads their lanes in order.
/// (pulp's answer is right where only "is any lane true" is asked of it.)
#[inline(always)]
fn first_lane<M: Copy>(mask: M, pulp_first: usize) -> usize {
    match std::mem::size_of::<M>() {
        1 => {
            // SAFETY: `M` is one byte (the arm), and any byte is a valid `u8`.
            let bits: u8 = unsafe { std::mem::transmute_copy(&mask) };
            bits.trailing_zeros() as usize
        }
        2 => {
            // SAFETY: `M` is two bytes (the arm), and any two bytes are a valid `u16`.
            let bits: u16 = unsafe { std::mem::transmute_copy(&mask) };
            bits.trailing_zeros() as usize
        }
        _ => pulp_first,
    }
}

/// Positions 0 to 15, a vector's lanes.
const IOTA64: [u64; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
/// See [`IOTA64`].
const IOTA32: [u32; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/// The NaN probe of [`first_chunk`] for floats: the lanes' sum.
#[inline(always)]
fn probe_f64<S: Simd>(simd: S, a: S::f64s, b: S::f64s) -> S::f64s {
    simd.add_f64s(a, b)
}
/// See [`probe_f64`].
#[inline(always)]
fn probe_f32<S: Simd>(simd: S, a: S::f32s, b: S::f32s) -> S::f32s {
    simd.add_f32s(a, b)
}
/// No probe for integers (no NaN).
#[inline(always)]
fn probe_none<S: Simd, V>(_simd: S, a: V, _b: V) -> V {
    a
}

/// [`first_chunk`] for the 8-byte types: positions and masks of 64 bits.
macro_rules! first_chunk_64 {
    ($name:ident, $short:ident, $t:ty, $v:ident, $splat:ident, $gt:ident, $lt:ident,
     $sel:ident, $eq:ident, $probe:ident, $steps:literal) => {
        short_chunk!(
            $short,
            $t,
            $v,
            F64_LANES,
            $splat,
            $gt,
            $lt,
            $sel,
            $eq,
            or_m64s,
            first_true_m64s,
            $probe
        );
        first_chunk!(
            $name,
            $short,
            $t,
            $v,
            u64s,
            m64s,
            F64_LANES,
            u64,
            IOTA64,
            $splat,
            $gt,
            $lt,
            $sel,
            splat_u64s,
            add_u64s,
            select_u64s,
            less_than_u64s,
            and_m64s,
            or_m64s,
            not_m64s,
            $probe,
            $steps
        );
    };
}
/// [`first_chunk`] for the 4-byte types: positions and masks of 32 bits.
macro_rules! first_chunk_32 {
    ($name:ident, $short:ident, $t:ty, $v:ident, $splat:ident, $gt:ident, $lt:ident,
     $sel:ident, $eq:ident, $probe:ident, $steps:literal) => {
        short_chunk!(
            $short,
            $t,
            $v,
            F32_LANES,
            $splat,
            $gt,
            $lt,
            $sel,
            $eq,
            or_m32s,
            first_true_m32s,
            $probe
        );
        first_chunk!(
            $name,
            $short,
            $t,
            $v,
            u32s,
            m32s,
            F32_LANES,
            u32,
            IOTA32,
            $splat,
            $gt,
            $lt,
            $sel,
            splat_u32s,
            add_u32s,
            select_u32s,
            less_than_u32s,
            and_m32s,
            or_m32s,
            not_m32s,
            $probe,
            $steps
        );
    };
}
#[rustfmt::skip]
mod first_chunks {
    use super::*;
    first_chunk_64!(first_f64, short_f64, f64, f64s, splat_f64s, greater_than_f64s, less_than_f64s, select_f64s, equal_f64s, probe_f64, 2);
    first_chunk_64!(first_i64, short_i64, i64, i64s, splat_i64s, greater_than_i64s, less_than_i64s, select_i64s, equal_i64s, probe_none, 4);
    first_chunk_64!(first_u64, short_u64, u64, u64s, splat_u64s, greater_than_u64s, less_than_u64s, select_u64s, equal_u64s, probe_none, 4);
    first_chunk_32!(first_f32, short_f32, f32, f32s, splat_f32s, greater_than_f32s, less_than_f32s, select_f32s, equal_f32s, probe_f32, 2);
    first_chunk_32!(first_i32, short_i32, i32, i32s, splat_i32s, greater_than_i32s, less_than_i32s, select_i32s, equal_i32s, probe_none, 4);
    first_chunk_32!(first_u32, short_u32, u32, u32s, splat_u32s, greater_than_u32s, less_than_u32s, select_u32s, equal_u32s, probe_none, 4);
}
pub(crate) use first_chunks::{first_f32, first_f64, first_i32, first_i64, first_u32, first_u64};

/// One block into lanes that keep their best key and the block it came from (`r`); with
/// `flagged`, its lane flags ORed into `flag`.
#[inline(always)]
fn track<T: Element, const MAX: bool, const K: u8, const N: usize>(
    best: &mut [T; N],
    at: &mut [<T as Sealed>::Tally; N],
    flag: &mut [<T as Sealed>::Flag; FLAGS],
    b: &[T; N],
    r: <T as Sealed>::Tally,
    flagged: bool,
) {
    for j in 0..N {
        let x = key::<T, MAX, K>(b[j]);
        let c = better::<T, MAX>(x, best[j]);
        best[j] = if c { x } else { best[j] };
        at[j] = if c { r } else { at[j] };
    }
    if flagged {
        or_flags::<T, K, N, FLAGS>(flag, b);
    }
    if !T::IS_FLOAT && std::mem::size_of::<T>() == 8 {
        // As in `lane_step`: no gathers across blocks for 64-bit integers.
        super::opaque_step();
    }
}

/// Add one chunk, whose first element is at logical position `base` and whose best key and
/// lane flag are `m` and `flag` ([`chunk_best`]), to `f`: a better best is searched for in
/// the chunk (in L1). Returns true when the answer is final ([`Found::is_final`]: the first
/// NaN under argmin/argmax, or a best nothing can beat).
#[inline(always)]
fn absorb<T: Element, const MAX: bool, const K: u8>(
    f: &mut Found<T>,
    chunk: &[T],
    base: u64,
    m: T,
    flag: bool,
) -> bool {
    if T::IS_FLOAT && K == PLAIN && flag {
        let k = chunk
            .iter()
            .position(|x| x.is_nan())
            .expect("a lane flagged a NaN in this chunk");
        *f = f.then::<MAX>(Found {
            best: T::NAN,
            pos: base + k as u64,
            nan: true,
            seen: false,
        });
        return true;
    }
    if K == NAN_WORST && flag {
        f.seen = true;
    }
    if f.pos == NONE || better::<T, MAX>(m, f.best) {
        let k = locate::<T, MAX, K>(chunk, m);
        f.best = m;
        f.pos = base + k as u64;
    }
    f.is_final::<MAX, K>()
}

/// [`scan`] of a long piece as [`STREAMS`] quarters read side by side, as the other kernels
/// read long contiguous runs (see `walk::STREAMS`: on one Zen 3 core a single stream stalls
/// at each page while the hardware prefetcher starts again): chunk `i` of every quarter at
/// once ([`chunks_best`]), each quarter with lanes and an answer of its own; a quarter's
/// chunk is searched (in L1) only when its best improves on the quarter's answer, and all
/// four chunks are taken one by one, as [`scan_in_order`] does, when a lane saw a NaN under
/// argmin/argmax. The quarters' answers then merge in order (the earlier wins ties, and a
/// final one ends the line), then the rest of the piece in order: the same answer as
/// [`scan_in_order`].
#[inline(always)]
fn scan_streams<
    S: Simd,
    T: Element,
    const MAX: bool,
    const K: u8,
    const N: usize,
    const F: usize,
>(
    simd: S,
    f: &mut Found<T>,
    data: &[T],
    start: u64,
) -> bool {
    let q = stream_blocks::<T, CHUNK>(data.len()) * CHUNK; // elements per quarter
    let mut found = [Found::<T>::empty(); STREAMS];
    let mut done = [false; STREAMS];
    for i in (0..q).step_by(CHUNK) {
        let chunk = |s: usize| &data[s * q + i..s * q + i + CHUNK];
        let base = |s: usize| start + (s * q + i) as u64;
        let (m, flag) = chunks_best::<T, MAX, K, N, F>([chunk(0), chunk(1), chunk(2), chunk(3)]);
        for s in 0..STREAMS {
            if !done[s] {
                done[s] = absorb::<T, MAX, K>(&mut found[s], chunk(s), base(s), m[s], flag[s]);
            }
        }
        // The first quarter's answer final: nothing after it can win. (A later quarter's:
        // the earlier quarters still can.)
        if done[0] {
            break;
        }
    }
    for (g, d) in found.into_iter().zip(done) {
        *f = f.then::<MAX>(g);
        if d {
            return true;
        }
    }
    scan_in_order::<S, T, MAX, K>(simd, f, &data[STREAMS * q..], start + (STREAMS * q) as u64)
}

/// [`chunk_best`] of one `CHUNK` of each stream, read side by side: a block of `N` lanes of
/// each in turn into the stream's own lanes, their flags ORed into `F`.
#[inline(always)]
fn chunks_best<T: Element, const MAX: bool, const K: u8, const N: usize, const F: usize>(
    chunks: [&[T]; STREAMS],
) -> ([T; STREAMS], [bool; STREAMS]) {
    const { assert!(CHUNK % N == 0) };
    let w = worst::<T, MAX>();
    let mut best = [[w; N]; STREAMS];
    let mut flag = [[<T as Sealed>::Flag::default(); F]; STREAMS];
    for c in &chunks {
        assert_eq!(c.len(), CHUNK);
    }
    for b in (0..CHUNK).step_by(N) {
        for s in 0..STREAMS {
            // SAFETY: b + N <= CHUNK (a multiple of N), the length of every chunk (checked
            // above); `[T; N]` has `T`'s alignment.
            let block: &[T; N] = unsafe { &*chunks[s].as_ptr().add(b).cast::<[T; N]>() };
            lane_step::<T, MAX, K, N, F>(&mut best[s], &mut flag[s], block);
        }
    }
    let m = best.map(|b| tree(b, |a, b| if better::<T, MAX>(b, a) { b } else { a }));
    let any = flag.map(|f| f.iter().any(|&x| x != <T as Sealed>::Flag::default()));
    (m, any)
}

/// `x` better than `b` on the vertical path, NaN included: under `PLAIN` floats a NaN beats
/// a number and not another NaN (so the first NaN stays).
#[inline(always)]
fn better_v<T: Element, const MAX: bool, const K: u8>(x: T, b: T) -> bool {
    if T::IS_FLOAT && K == PLAIN {
        better::<T, MAX>(x, b) | (x.is_nan() & !b.is_nan())
    } else {
        better::<T, MAX>(x, b)
    }
}

/// The vertical path's state for up to `ATILE` outputs.
pub(crate) struct ArgTile<T: Element> {
    /// The current block of rows: best key, its row in the block, flag.
    best: [T; ATILE],
    row: [<T as Sealed>::Tally; ATILE],
    flag: [<T as Sealed>::Flag; ATILE],
    /// Merged over the blocks before: best key and its position along the axis.
    gbest: [T; ATILE],
    gpos: [u64; ATILE],
    gflag: [bool; ATILE],
}

impl<T: Element> ArgTile<T> {
    pub(crate) fn new() -> Box<Self> {
        Box::new(Self {
            best: [T::ZERO; ATILE],
            row: [Default::default(); ATILE],
            flag: [Default::default(); ATILE],
            gbest: [T::ZERO; ATILE],
            gpos: [NONE; ATILE],
            gflag: [false; ATILE],
        })
    }

    /// Start a block with its first row (`len` outputs).
    ///
    /// # Safety
    /// `row + j` must be a valid `T` for `j < len <= ATILE`.
    #[inline(always)]
    pub(crate) unsafe fn start<const MAX: bool, const K: u8>(&mut self, row: *const T, len: usize) {
        // SAFETY: our contract.
        let row = unsafe { std::slice::from_raw_parts(row, len) };
        for (j, &x) in row.iter().enumerate() {
            self.best[j] = key::<T, MAX, K>(x);
            self.row[j] = Default::default();
            self.flag[j] = flag_of::<T, K>(x);
        }
    }

    /// Add `N` rows, the first of them row `r` of the block (`r` counted as a tally), each
    /// output's state in registers across them.
    ///
    /// # Safety
    /// `rows[i] + j` must be a valid `T` for every row and `j < len <= ATILE`.
    #[inline(always)]
    pub(crate) unsafe fn push<const MAX: bool, const K: u8, const N: usize>(
        &mut self,
        rows: [*const T; N],
        mut r: <T as Sealed>::Tally,
        len: usize,
    ) {
        // SAFETY: our contract.
        let rows: [&[T]; N] =
            std::array::from_fn(|i| unsafe { std::slice::from_raw_parts(rows[i], len) });
        let one = <T as Sealed>::Tally::from(true);
        let mut rs = [r; N];
        for i in 0..N {
            rs[i] = r;
            r = r + one;
        }
        let (best, row, flag) = (
            &mut self.best[..len],
            &mut self.row[..len],
            &mut self.flag[..len],
        );
        for j in 0..len {
            let (mut b, mut at, mut f) = (best[j], row[j], flag[j]);
            for i in 0..N {
                let raw = rows[i][j];
                let x = key::<T, MAX, K>(raw);
                let c = better_v::<T, MAX, K>(x, b);
                b = if c { x } else { b };
                at = if c { rs[i] } else { at };
                f = f | flag_of::<T, K>(raw);
            }
            best[j] = b;
            row[j] = at;
            flag[j] = f;
        }
    }

    /// Merge the block whose first row is at position `first` into the merged state.
    #[inline(always)]
    pub(crate) fn end_block<const MAX: bool, const K: u8>(&mut self, first: u64, len: usize) {
        let zero = <T as Sealed>::Flag::default();
        for j in 0..len {
            let take = self.gpos[j] == NONE || better_v::<T, MAX, K>(self.best[j], self.gbest[j]);
            if take {
                self.gbest[j] = self.best[j];
                self.gpos[j] = first + self.row[j].into();
            }
            self.gflag[j] |= self.flag[j] != zero;
        }
    }

    /// Output `j`'s answer (the flag is "a number was seen" only under `NAN_WORST`).
    pub(crate) fn found<const K: u8>(&self, j: usize) -> Found<T> {
        let nan = T::IS_FLOAT && self.gbest[j].is_nan();
        Found {
            best: self.gbest[j],
            pos: self.gpos[j],
            nan,
            seen: K == NAN_WORST && self.gflag[j],
        }
    }
}

/// Rows of a vertical block: `TALLY_MAX` (capped), so that the row counter, which counts
/// one past the block's last row, never overflows (`u8` data: rows 0..=254 of a block).
pub(crate) fn block_rows<T: Element>() -> usize {
    <T as Sealed>::TALLY_MAX.min(1 << 20) as usize
}

/// Add `n` rows (`row(i)` is row `i`'s first output) to `tile`, block by block.
///
/// # Safety
/// `row(i) + j` must be a valid `T` for `i < n`, `j < len <= ATILE`.
#[inline(always)]
pub(crate) unsafe fn vertical<T: Element, S: Simd, const MAX: bool, const K: u8>(
    _simd: S,
    tile: &mut ArgTile<T>,
    n: usize,
    len: usize,
    row: impl Fn(usize) -> *const T,
) {
    let per_block = block_rows::<T>();
    let mut first = 0;
    while first < n {
        let end = (first + per_block).min(n);
        // SAFETY: row `first` < n is a row of this tile (our contract).
        unsafe { tile.start::<MAX, K>(row(first), len) };
        let one = <T as Sealed>::Tally::from(true);
        let mut r = one;
        let mut i = first + 1;
        while i + ROWS <= end {
            let rows: [*const T; ROWS] = std::array::from_fn(|k| row(i + k));
            // SAFETY: rows i .. i + ROWS <= end <= n are rows of this tile (our contract).
            unsafe { tile.push::<MAX, K, ROWS>(rows, r, len) };
            for _ in 0..ROWS {
                r = r + one;
            }
            i += ROWS;
        }
        while i < end {
            // SAFETY: row i < end <= n is a row of this tile (our contract).
            unsafe { tile.push::<MAX, K, 1>([row(i)], r, len) };
            r = r + one;
            i += 1;
        }
        tile.end_block::<MAX, K>(first as u64, len);
        first = end;
    }
}
