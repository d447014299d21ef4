//! Exact sums of integers and bool, in `i128` (numpy's wrap-around is a truncation of them).
//!
//! - Types of 32 bits or fewer are summed in f64 lanes, exactly (see `small_int`).
//! - 64-bit values in the lanes path: each lane sums `b = bits ^ BIAS` (wrapping) and
//!   `b >> 32` (see `add_wide`, `join_wide`); in a tile, the signed halves of
//!   `IntElement::split`, both in `i64` (no overflow below 2^31 elements per lane).
//! - Lanes and tiles combine in `i128`.
//! - `sum` of 64-bit values (`WRAP`): only the sum modulo 2^64, which is numpy's result
//!   (its `int64`/`uint64` sum wraps): one wrapping addition per value, where the exact sum
//!   takes four operations (the bias, the high half's shift, two additions). Its partials
//!   are right modulo 2^64 (the sum itself when nothing wrapped); means keep the exact sum.

use super::{tree, Kernel, LANES, TILE};
use crate::element::IntElement;
use crate::walk::{for_each_block, for_each_in_row};
use pulp::Simd;
use std::marker::PhantomData;

/// Exact sum of integers (and bool) in `i128`; with `WRAP` (64-bit types only), the sum
/// modulo 2^64 (see the module docs).
pub(crate) struct IntSum<T, const WRAP: bool = false>(PhantomData<T>);

impl<T, const WRAP: bool> IntSum<T, WRAP> {
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

pub(crate) struct IntLanes {
    /// 64-bit types: sums of `(bits ^ BIAS) >> 32`, the high halves of the values made
    /// unsigned (see `IntElement::BIAS`). (`WIDE_LANES` long, not `LANES`: `lanes()` zeroes
    /// the struct for every output, and with 32 that memset was 14% of a (300, 300) int64
    /// sum along axis 1.)
    hi: [i64; WIDE_LANES],
    /// 64-bit types: wrapping sums of `bits ^ BIAS`.
    lo: [i64; WIDE_LANES],
    /// 64-bit types: the number of values fed (pads not counted).
    n: u64,
    small: [f64; LANES],
}

pub(crate) struct IntTile {
    hi: [i64; TILE],
    lo: [i64; TILE],
    small: [f64; TILE],
    acc: [i128; TILE],
}

/// Integers of 32 bits or fewer (and bool) are summed in f64 lanes: every value and every
/// lane sum is an integer below 2^53 (a lane gets at most 2 * UNIT = 2^16 values of at most
/// 2^32, and the vertical path flushes every 32 rows), so the sums are exact, and i32 -> f64
/// conversion vectorises where the (hi, lo) split of 64-bit values does not.
#[inline(always)]
const fn small_int<T>() -> bool {
    std::mem::size_of::<T>() <= 4
}

/// Lanes of 64-bit integers' sums (the first of the `LANES` arrays; the others stay zero):
/// with 32 the (hi, lo) pairs took all 16 AVX2 registers and every block stored and reloaded
/// them (perf annotate: sum of 1e5 i64 at half numpy's speed).
const WIDE_LANES: usize = 16;

/// Add one 64-bit value into lane `j`: its unsigned form `b = bits ^ BIAS` (`x + 2^63` for
/// `i64`), whose high half is one logical shift (AVX2 has no 64-bit arithmetic shift: the
/// signed `split` took three instructions, and a single thread summed cold i64 at 0.8x
/// numpy's speed), and `b` itself, wrapping. [`join_wide`] recovers the exact sum.
#[inline(always)]
fn add_wide<T: IntElement>(l: &mut IntLanes, j: usize, x: T) {
    let b = x.bits() ^ T::BIAS;
    l.hi[j] = l.hi[j].wrapping_add((b >> 32) as i64);
    l.lo[j] = l.lo[j].wrapping_add(b as i64);
}

/// The exact sum of `n` 64-bit values from `hi = Σ (b >> 32)` and `lo = Σ b mod 2^64`
/// (`b = bits ^ bias`; pads have `b = 0`): `Σ b = 2^32 hi + Σ (b mod 2^32)`, and the last
/// sum lies in `0..2^64` (fewer than 2^32 values), so it is `lo - 2^32 hi` modulo 2^64.
/// Then `Σ x = Σ b - n * bias`.
#[inline(always)]
fn join_wide(hi: i64, lo: i64, n: u64, bias: u64) -> i128 {
    let low_halves = (lo as u64).wrapping_sub((hi as u64) << 32);
    ((hi as i128) << 32) + low_halves as i128 - n as i128 * bias as i128
}

/// The wrapping sum of 64-bit values `bits` (`Σ bits mod 2^64`) as `i128`: the signed or
/// unsigned reading of those bits as `T` is, so the sum itself when it did not wrap.
#[inline(always)]
fn wrapped<T: IntElement>(bits: i64) -> i128 {
    if T::BIAS != 0 {
        i128::from(bits)
    } else {
        i128::from(bits as u64)
    }
}

/// A lane of small integers' sum (an integer below 2^53, see `small_int`) as `i128`, through
/// `i64`: one conversion instruction, where `f64 as i128` is a library call (`__fixdfti`),
/// 32 of them per output, which made short integer rows slower than their elements.
#[inline(always)]
fn whole(x: f64) -> i128 {
    x as i64 as i128
}

#[inline(always)]
fn join(hi: i64, lo: i64) -> i128 {
    ((hi as i128) << 32) + lo as i128
}

impl<T: IntElement, const WRAP: bool> Kernel<T> for IntSum<T, WRAP> {
    type Lanes = IntLanes;
    type Tile = Box<IntTile>;
    type Partial = i128;

    #[inline(always)]
    fn lanes(&self) -> IntLanes {
        IntLanes {
            hi: [0; WIDE_LANES],
            lo: [0; WIDE_LANES],
            n: 0,
            small: [0.0; LANES],
        }
    }

    #[inline(always)]
    unsafe fn feed<S: Simd>(
        &self,
        _simd: S,
        lanes: &mut IntLanes,
        ptr: *const T,
        len: usize,
        stride: isize,
    ) {
        // The wrapping sum's block loop is a copy of the exact one's below, on purpose:
        // f01aa3b merged them (one `for_each_block`, `add_wide` branching on `WRAP`), the
        // same operations, and LLVM then left both loops scalar with the lanes spilled to
        // the stack: `sum` of 1e5 i64 17.8 -> 65.8 us and `mean` 24.8 -> 151.6 us (one Zen 1
        // thread; numpy 25 and 90-130). Check the timings before merging them again.
        if const { WRAP && !small_int::<T>() } {
            // SAFETY: forwarded from this function's contract.
            unsafe {
                for_each_block::<T, _, WIDE_LANES>(
                    lanes,
                    ptr,
                    len,
                    stride,
                    Some(T::ZERO),
                    #[inline(always)]
                    |l, block| {
                        for (j, &x) in block.iter().enumerate() {
                            l.lo[j] = l.lo[j].wrapping_add(x.bits() as i64);
                        }
                        super::opaque_step();
                    },
                    #[inline(always)]
                    |l, j, x| l.lo[j] = l.lo[j].wrapping_add(x.bits() as i64),
                )
            };
            return;
        }
        if const { !small_int::<T>() } {
            lanes.n += len as u64;
            // SAFETY: forwarded from this function's contract.
            unsafe {
                for_each_block::<T, _, WIDE_LANES>(
                    lanes,
                    ptr,
                    len,
                    stride,
                    Some(T::BIASED_ZERO),
                    #[inline(always)]
                    |l, block| {
                        for (j, &x) in block.iter().enumerate() {
                            add_wide(l, j, x);
                        }
                        // Keeps the compiler from vectorising across blocks with gathers
                        // (see `opaque_step`; it did, with the lanes in memory).
                        super::opaque_step();
                    },
                    #[inline(always)]
                    |l, j, x| add_wide(l, j, x),
                )
            };
            return;
        }
        // SAFETY: forwarded from this function's contract.
        unsafe {
            for_each_block::<T, _, LANES>(
                lanes,
                ptr,
                len,
                stride,
                Some(T::ZERO),
                #[inline(always)]
                |l, block| {
                    for j in 0..LANES {
                        l.small[j] += block[j].to_f64();
                    }
                },
                #[inline(always)]
                |l, j, x| {
                    l.small[j] += x.to_f64();
                },
            )
        }
    }

    #[inline(always)]
    fn finish<S: Simd>(&self, _simd: S, lanes: IntLanes) -> i128 {
        if const { small_int::<T>() } {
            // Each lane is an integer of magnitude below 2^48 (see `small_int`), so every
            // sum in the tree is an integer below 2^53: exact in f64, and one conversion.
            return whole(tree(
                lanes.small,
                #[inline(always)]
                |a, b| a + b,
            ));
        }
        // 64-bit values: a work unit feeds at most UNIT = 2^15 values, plus pads (at most
        // 15 per run, with at least one value each), so `hi` summed over the lanes is below
        // 2^19 * 2^32 and fits in i64, and `lo` wraps by design: two vector sums and one
        // join, not 16 i128 joins and additions per output (short rows of i64 paid more for
        // those than for their elements).
        let (mut h, mut l) = (0i64, 0i64);
        for j in 0..WIDE_LANES {
            h += lanes.hi[j];
            l = l.wrapping_add(lanes.lo[j]);
        }
        if WRAP {
            return wrapped::<T>(l);
        }
        join_wide(h, l, lanes.n, T::BIAS)
    }

    /// Exact sums.
    const GROUPING_FREE: bool = true;

    #[inline(always)]
    fn combine(&self, a: i128, b: i128) -> i128 {
        a.wrapping_add(b)
    }

    fn tile(&self) -> Box<IntTile> {
        Box::new(IntTile {
            hi: [0; TILE],
            lo: [0; TILE],
            small: [0.0; TILE],
            acc: [0; TILE],
        })
    }

    #[inline(always)]
    unsafe fn push_row(&self, tile: &mut Box<IntTile>, ptr: *const T, len: usize, stride: isize) {
        let t = &mut **tile;
        let (hi, lo, small) = (&mut t.hi[..len], &mut t.lo[..len], &mut t.small[..len]);
        // SAFETY: forwarded from this function's contract.
        unsafe {
            for_each_in_row(
                ptr,
                len,
                stride,
                #[inline(always)]
                |j, x| {
                    if const { small_int::<T>() } {
                        small[j] += x.to_f64();
                    } else if WRAP {
                        lo[j] = lo[j].wrapping_add(x.bits() as i64);
                    } else {
                        let (h, l) = x.split();
                        hi[j] = hi[j].wrapping_add(h);
                        lo[j] = lo[j].wrapping_add(l);
                    }
                },
            )
        }
    }

    #[inline(always)]
    fn flush(&self, tile: &mut Box<IntTile>, len: usize) {
        let t = &mut **tile;
        for j in 0..len {
            let small = whole(t.small[j]);
            let wide = if WRAP {
                wrapped::<T>(t.lo[j])
            } else {
                join(t.hi[j], t.lo[j])
            };
            t.acc[j] = t.acc[j].wrapping_add(wide + small);
            t.hi[j] = 0;
            t.lo[j] = 0;
            t.small[j] = 0.0;
        }
    }

    fn tile_partial(&self, tile: &Box<IntTile>, j: usize) -> i128 {
        tile.acc[j]
    }
}
