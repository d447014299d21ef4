//! `count_nonzero`, `any` and `all`: how many elements of each output are not zero.
//!
//! An element counts when `x != 0`: NaN counts (numpy's truth value of NaN is true), `-0.0`
//! does not. bool is read as bytes (see `dynamic.rs`), so any nonzero byte is true, as numpy
//! reads it. A count is exact (`u64` lanes), so `any` (`count > 0`) and `all` (`count == n`)
//! follow from it, and every layout, thread count and SIMD level gives the same answer.
//! (No early exit for `any`/`all`: the count reads every element, as numpy's logical
//! reductions do.)

use super::{tree, Kernel, LANES, ROWS, TILE};
use crate::element::sealed::Sealed;
use crate::element::Element;
use crate::walk::{for_each_block, for_each_in_row, for_each_piece};
use pulp::Simd;
use std::marker::PhantomData;

/// The counting kernel.
pub(crate) struct NonZero<T>(PhantomData<T>);

impl<T> NonZero<T> {
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

/// The vertical path's counts, one per output: a byte tally per output, moved into `count`
/// every `FLUSH_ROWS` (32) rows, so it never exceeds 32. (With the counts alone, each row
/// read and wrote 8 bytes of state per element: `any` over axis 0 of 4000x4000 u8 took 3.5x
/// numpy's time on one Zen 4 thread.)
pub(crate) struct CountTile {
    count: [u64; TILE],
    tally: [u8; TILE],
}

/// 1 if `x` is not zero.
#[inline(always)]
fn nonzero<T: Element>(x: T) -> u64 {
    u64::from(x != T::ZERO)
}

/// The lane path's counts: a tally per lane as wide as `T` (a compare's mask adds into it
/// without widening: u64 lanes counted u8 data at a quarter of numpy's speed), emptied into
/// `total` before it can overflow.
pub(crate) struct CountLanes<T: Element> {
    tally: [<T as Sealed>::Tally; LANES],
    /// Blocks added into `tally` since it was last emptied.
    blocks: u64,
    total: [u64; LANES],
}

impl<T: Element> CountLanes<T> {
    /// Move the tallies into the totals.
    #[inline(always)]
    fn empty(&mut self) {
        for j in 0..LANES {
            self.total[j] += self.tally[j].into();
            self.tally[j] = Default::default();
        }
        self.blocks = 0;
    }
}

impl<T: Element> Kernel<T> for NonZero<T> {
    type Lanes = CountLanes<T>;
    type Tile = Box<CountTile>;
    type Partial = u64;
    /// Cheap per element and exact however the elements are cut, as min/max.
    const BY_BYTES: bool = true;
    /// Exact counts.
    const GROUPING_FREE: bool = true;

    #[inline(always)]
    fn lanes(&self) -> CountLanes<T> {
        CountLanes {
            tally: [Default::default(); LANES],
            blocks: 0,
            total: [0; LANES],
        }
    }

    #[inline(always)]
    unsafe fn feed<S: Simd>(
        &self,
        _simd: S,
        lanes: &mut CountLanes<T>,
        ptr: *const T,
        len: usize,
        stride: isize,
    ) {
        if stride == 1 {
            // SAFETY: a run of stride 1 is `len` contiguous valid elements (our contract).
            if let Some(zeros) = unsafe { T::simd_zeros(_simd, ptr, len) } {
                lanes.total[0] += len as u64 - zeros;
                return;
            }
        }
        // A piece adds at most ceil(n / LANES) to a tally; it is emptied before it could
        // overflow, between pieces, so that the block loop stays branch-free (a check per
        // block turned the u8 loop into scalar code).
        let piece = usize::try_from(T::TALLY_MAX)
            .unwrap_or(usize::MAX)
            .saturating_mul(LANES);
        for_each_piece(
            ptr,
            len,
            stride,
            piece,
            #[inline(always)]
            |p, n| {
                let blocks = n.div_ceil(LANES) as u64;
                if lanes.blocks + blocks > T::TALLY_MAX {
                    lanes.empty();
                }
                lanes.blocks += blocks;
                // The tallies as a local for the loop: through `lanes` they stayed in memory
                // (a u8 data pointer may alias them), a load and a store per block.
                let mut tally = lanes.tally;
                // SAFETY: the piece is part of the run (our contract).
                unsafe {
                    for_each_block::<T, _, LANES>(
                        &mut tally,
                        p,
                        n,
                        stride,
                        // A zero fills a short last block without counting.
                        Some(T::ZERO),
                        #[inline(always)]
                        |t, block| {
                            for j in 0..LANES {
                                t[j] = t[j] + (block[j] != T::ZERO).into();
                            }
                            // Keeps the compiler from vectorising across blocks (32 separate
                            // counts read with byte gathers: u8 at 2 GB/s), as in minmax.rs.
                            super::opaque_step();
                        },
                        // (The last partial block counts in `blocks` too.)
                        #[inline(always)]
                        |t, j, x| t[j] = t[j] + (x != T::ZERO).into(),
                    )
                }
                lanes.tally = tally;
            },
        );
    }

    #[inline(always)]
    fn finish<S: Simd>(&self, _simd: S, mut lanes: CountLanes<T>) -> u64 {
        lanes.empty();
        tree(
            lanes.total,
            #[inline(always)]
            |a, b| a + b,
        )
    }

    #[inline(always)]
    fn combine(&self, a: u64, b: u64) -> u64 {
        a + b
    }

    fn tile(&self) -> Box<CountTile> {
        Box::new(CountTile {
            count: [0; TILE],
            tally: [0; TILE],
        })
    }

    #[inline(always)]
    unsafe fn push_row(&self, tile: &mut Box<CountTile>, ptr: *const T, len: usize, stride: isize) {
        let tally = &mut tile.tally[..len];
        // SAFETY: forwarded from this function's contract.
        unsafe {
            for_each_in_row(
                ptr,
                len,
                stride,
                #[inline(always)]
                |j, x| tally[j] += nonzero(x) as u8,
            )
        }
    }

    #[inline(always)]
    fn batches_rows(&self, stride: isize) -> bool {
        stride == 1
    }

    /// `ROWS` contiguous rows at once: each output's count takes their four elements in one
    /// addition (exact, so in any order), one load and store of the counts per batch
    /// rather than per row. Row by row, `any` over axis 0 of 4000x4000 f64 from memory took
    /// 1.2x numpy's time on one Zen 4 thread.
    #[inline(always)]
    unsafe fn push_rows<S: Simd>(
        &self,
        _simd: S,
        tile: &mut Box<CountTile>,
        rows: &[*const T],
        len: usize,
        stride: isize,
    ) {
        if stride != 1 || rows.len() != ROWS || len == 0 {
            for &p in rows {
                // SAFETY: forwarded from this function's contract.
                unsafe { self.push_row(tile, p, len, stride) };
            }
            return;
        }
        // SAFETY: each row is `len` valid, contiguous elements (our contract, stride 1).
        let rows: [&[T]; ROWS] =
            std::array::from_fn(|r| unsafe { std::slice::from_raw_parts(rows[r], len) });
        const { assert!(ROWS == 4) };
        let [a, b, c, d] = rows;
        // Zipped, not indexed: no bounds checks, so the loop vectorises.
        for ((((n, &a), &b), &c), &d) in tile.tally[..len].iter_mut().zip(a).zip(b).zip(c).zip(d) {
            *n += ((nonzero(a) + nonzero(b)) + (nonzero(c) + nonzero(d))) as u8;
        }
    }

    /// Every `FLUSH_ROWS` rows (the last batch of a unit may be short, and a flush follows
    /// it), and before `tile_partial`: the tallies into the counts.
    #[inline(always)]
    fn flush(&self, tile: &mut Box<CountTile>, len: usize) {
        const { assert!(<Self as Kernel<T>>::FLUSH_ROWS <= u8::MAX as usize) };
        let t = &mut **tile;
        for (n, c) in t.tally[..len].iter_mut().zip(&mut t.count[..len]) {
            *c += u64::from(*n);
            *n = 0;
        }
    }

    fn tile_partial(&self, tile: &Box<CountTile>, j: usize) -> u64 {
        tile.count[j]
    }
}

/// Vectors a lane of [`count_ones`]'s four accumulators takes at most between two emptyings: a 16-bit lane adds at most one per vector, so 4 * 16384
/// vectors in a chunk leave it at most 16384.
const CHUNK_VECTORS: usize = 4 * 16384;

/// The sum of every lane of `v` (at most 64 bytes of `U`), as u64.
macro_rules! lane_sum {
    ($S:ty, $v:expr, $u:ty, $as_mut:ident) => {{
        let mut buf = [0 as $u; 64 / std::mem::size_of::<$u>()];
        let (vs, _) = <$S>::$as_mut(&mut buf);
        vs[0] = $v;
        buf.iter().map(|&x| x as u64).sum::<u64>()
    }};
}

/// The sum over the vectors of `head` of `ones(v)`, a vector of 0 or 1 per lane, added into
/// four accumulators (`add`; the four break the add chain) that `total` empties every
/// `CHUNK_VECTORS` vectors.
#[inline(always)]
fn count_ones<V: Copy, A: Copy>(
    head: &[V],
    none: A,
    add: impl Fn(A, A) -> A,
    ones: impl Fn(V) -> A,
    total: impl Fn(A) -> u64,
) -> u64 {
    let mut count = 0u64;
    for chunk in head.chunks(CHUNK_VECTORS) {
        let mut acc = [none; 4];
        let quads = chunk.chunks_exact(4);
        let rest = quads.remainder();
        for q in quads {
            for k in 0..4 {
                acc[k] = add(acc[k], ones(q[k]));
            }
        }
        for (k, &v) in rest.iter().enumerate() {
            acc[k] = add(acc[k], ones(v));
        }
        for a in acc {
            count += total(a);
        }
    }
    count
}

/// Zeros among contiguous unsigned integers, each vector adding `min(x, 1)` (two operations
/// a vector, [`count_ones`]).
macro_rules! zeros_by_min {
    ($name:ident, $u:ty, $as_simd:ident, $as_mut:ident, $splat:ident, $add:ident, $min:ident) => {
        /// The zeros among the `len` contiguous values at `ptr`, counted with `simd`.
        ///
        /// # Safety
        /// `ptr .. ptr + len` must be valid, initialised values.
        #[inline(always)]
        pub(crate) unsafe fn $name<S: Simd>(simd: S, ptr: *const $u, len: usize) -> Option<u64> {
            // SAFETY: our contract.
            let data = unsafe { std::slice::from_raw_parts(ptr, len) };
            let (head, tail) = S::$as_simd(data);
            let one = simd.$splat(1);
            let mut nonzero = count_ones(
                head,
                simd.$splat(0),
                #[inline(always)]
                |a, b| simd.$add(a, b),
                #[inline(always)]
                |v| simd.$min(v, one),
                #[inline(always)]
                |a| lane_sum!(S, a, $u, $as_mut),
            );
            nonzero += tail.iter().filter(|&&x| x != 0).count() as u64;
            Some(len as u64 - nonzero)
        }
    };
}

zeros_by_min!(
    zeros_u16,
    u16,
    as_simd_u16s,
    as_mut_simd_u16s,
    splat_u16s,
    add_u16s,
    min_u16s
);
zeros_by_min!(
    zeros_u32,
    u32,
    as_simd_u32s,
    as_mut_simd_u32s,
    splat_u32s,
    add_u32s,
    min_u32s
);

/// Zeros among contiguous values whose compare with zero is a vector op at every level
/// (64-bit integers, whose unsigned min is not one at AVX2, and floats, where `-0.0` is zero
/// and NaN is not: `x == 0.0`): each vector adds its compare's mask, as 1 or 0 in lanes as
/// wide as the value ([`count_ones`]).
macro_rules! zeros_by_eq {
    ($name:ident, $t:ty, $u:ty, $as_simd:ident, $splat:ident, $eq:ident,
     $uas_mut:ident, $usplat:ident, $add:ident, $select:ident, $zero:expr) => {
        /// The zeros among the `len` contiguous values at `ptr`, counted with `simd`.
        ///
        /// # Safety
        /// `ptr .. ptr + len` must be valid, initialised values.
        #[inline(always)]
        pub(crate) unsafe fn $name<S: Simd>(simd: S, ptr: *const $t, len: usize) -> u64 {
            // SAFETY: our contract.
            let data = unsafe { std::slice::from_raw_parts(ptr, len) };
            let (head, tail) = S::$as_simd(data);
            let zero = simd.$splat($zero);
            let (none, one) = (simd.$usplat(0), simd.$usplat(1));
            let zeros = count_ones(
                head,
                none,
                #[inline(always)]
                |a, b| simd.$add(a, b),
                #[inline(always)]
                |v| simd.$select(simd.$eq(v, zero), one, none),
                #[inline(always)]
                |a| lane_sum!(S, a, $u, $uas_mut),
            );
            zeros + tail.iter().filter(|&&x| x == $zero).count() as u64
        }
    };
}

zeros_by_eq!(
    zeros_f64,
    f64,
    u64,
    as_simd_f64s,
    splat_f64s,
    equal_f64s,
    as_mut_simd_u64s,
    splat_u64s,
    add_u64s,
    select_u64s,
    0.0
);
zeros_by_eq!(
    zeros_f32,
    f32,
    u32,
    as_simd_f32s,
    splat_f32s,
    equal_f32s,
    as_mut_simd_u32s,
    splat_u32s,
    add_u32s,
    select_u32s,
    0.0
);
zeros_by_eq!(
    zeros_u64_eq,
    u64,
    u64,
    as_simd_u64s,
    splat_u64s,
    equal_u64s,
    as_mut_simd_u64s,
    splat_u64s,
    add_u64s,
    select_u64s,
    0
);

/// [`zeros_u64_eq`] as the integer types' hook returns it.
///
/// # Safety
/// As [`zeros_u64_eq`].
#[inline(always)]
pub(crate) unsafe fn zeros_u64<S: Simd>(simd: S, ptr: *const u64, len: usize) -> Option<u64> {
    // SAFETY: forwarded from this function's contract.
    Some(unsafe { zeros_u64_eq(simd, ptr, len) })
}

/// One-byte types: no loop of their own (the kernel's tallies vectorise).
///
/// # Safety
/// None needed; `unsafe` as the other types' hooks.
#[inline(always)]
pub(crate) unsafe fn zeros_u8<S: Simd>(_simd: S, _ptr: *const u8, _len: usize) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{available_simd_levels, dispatch};
    use pulp::WithSimd;

    struct Zeros<'a, T>(&'a [T]);

    impl<T: Element> WithSimd for Zeros<'_, T> {
        type Output = Option<u64>;

        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) -> Option<u64> {
            // SAFETY: the slice's own elements.
            unsafe { T::simd_zeros(simd, self.0.as_ptr(), self.0.len()) }
        }
    }

    /// Every length class (empty, a tail only, whole quads, a remainder of vectors, a tail)
    /// at every level this CPU has, against a plain count; `None` only for one-byte types.
    fn counts_as_the_scalar_loop<T: Element>(value: impl Fn(usize) -> T, has_loop: bool) {
        let mut lens: Vec<usize> = (0..=70).collect();
        lens.extend([127, 128, 129, 255, 1000, 4099]);
        // Longer than a chunk of 16-bit lanes at AVX-512 (32 lanes), all nonzero: a lane that
        // took more than 65535 adds before it was emptied would wrap.
        lens.push(3 * CHUNK_VECTORS * 32 + 5);
        for len in lens {
            let v: Vec<T> = (0..len).map(&value).collect();
            let want = v.iter().filter(|&&x| x == T::ZERO).count() as u64;
            for &level in &available_simd_levels() {
                let got = dispatch(level, Zeros(&v));
                assert_eq!(got.is_some(), has_loop, "{level:?}");
                if let Some(got) = got {
                    assert_eq!(
                        got,
                        want,
                        "{} of {len} at {level:?}",
                        std::any::type_name::<T>()
                    );
                }
            }
        }
    }

    #[test]
    fn vector_zero_counts_are_the_scalar_counts() {
        // Zeros at irregular places; floats with -0.0 (a zero), NaN and inf (not zeros).
        let gap = |i: usize| i % 7 == 3 || i % 11 == 0;
        counts_as_the_scalar_loop(|i| if gap(i) { 0u16 } else { i as u16 | 1 }, true);
        counts_as_the_scalar_loop(|i| if gap(i) { 0i16 } else { -(i as i16 | 1) }, true);
        counts_as_the_scalar_loop(|i| if gap(i) { 0u32 } else { (i as u32) << 16 | 1 }, true);
        counts_as_the_scalar_loop(|i| if gap(i) { 0i32 } else { i32::MIN }, true);
        counts_as_the_scalar_loop(|i| if gap(i) { 0u64 } else { 1u64 << (i % 64) }, true);
        counts_as_the_scalar_loop(|i| if gap(i) { 0i64 } else { -1i64 }, true);
        let float = |i: usize| match i % 13 {
            0 => -0.0,
            5 => f64::NAN,
            9 => f64::NEG_INFINITY,
            _ if gap(i) => 0.0,
            _ => f64::MIN_POSITIVE / 8.0, // subnormal: not zero
        };
        counts_as_the_scalar_loop(float, true);
        counts_as_the_scalar_loop(|i| float(i) as f32, true);
        counts_as_the_scalar_loop(|i| if gap(i) { 0u8 } else { 1u8 }, false);
        counts_as_the_scalar_loop(|i| if gap(i) { 0i8 } else { -1i8 }, false);
    }
}
