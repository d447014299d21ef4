//! Variance (and so std) without `E[x^2] - E[x]^2`.
//!
//! Lane path: runs are gathered into blocks of about `BLOCK` elements (small enough to stay
//! in L1/L2 for a second read). Each block is reduced by the corrected two-pass algorithm:
//! pass 1 gives a shift `c` (the block's plain mean), pass 2 sums `d = x - c` and `d^2`, giving
//! the block's `(n, mean = c + Σd/n, M2 = Σd² - (Σd)²/n)`. Blocks, units and lanes are merged
//! with Chan et al.'s pairwise formula. Memory is read once; the second pass hits cache.
//!
//! Vertical path: one Welford state per output (`mean += d/n; M2 += d (x - mean)`), merged
//! the same way.

use super::{tree, Kernel, NanPolicy, LANES, TILE};
use crate::element::Element;
use crate::simd::outlined;
use crate::walk::{for_each_block, for_each_in_row};
use pulp::{Simd, WithSimd};
use std::marker::PhantomData;

/// Elements per two-pass block (32 KiB of f64).
const BLOCK: usize = 4096;

/// The partial state of `var` and `std` (and their nan-variants): count, mean and sum of
/// squared deviations from the mean (`M2`) of a set of elements (the non-NaN ones under the
/// nan-functions). The variance is `m2 / (n - ddof)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VarPartial {
    /// Elements counted.
    pub n: f64,
    /// Their mean (0 when `n == 0`).
    pub mean: f64,
    /// Their sum of squared deviations from `mean`.
    pub m2: f64,
}

impl VarPartial {
    /// The state of no elements.
    pub const EMPTY: Self = Self {
        n: 0.0,
        mean: 0.0,
        m2: 0.0,
    };

    /// The state of the union of two disjoint sets: Chan, Golub & LeVeque's merge. The
    /// kernels merge their blocks and work units with this.
    #[inline(always)]
    pub fn merge(self, b: Self) -> Self {
        if self.n == 0.0 {
            return b;
        }
        if b.n == 0.0 {
            return self;
        }
        let n = self.n + b.n;
        let d = b.mean - self.mean;
        Self {
            n,
            mean: self.mean + d * (b.n / n),
            m2: self.m2 + b.m2 + d * d * (self.n * (b.n / n)),
        }
    }
}

pub(crate) struct Var<T, P>(PhantomData<(T, P)>);

impl<T, P> Var<T, P> {
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

/// What fills up a short last block: NaN under the nan-functions (skipped by both passes);
/// none under the plain ones, where every element is counted.
#[inline(always)]
fn pad<T: Element, P: NanPolicy>() -> Option<T> {
    (P::IGNORE && T::IS_FLOAT).then_some(T::NAN)
}

/// A run waiting in the current block.
#[derive(Clone, Copy)]
struct Run<T> {
    ptr: *const T,
    len: usize,
    stride: isize,
}

pub(crate) struct VarLanes<T> {
    pending: Vec<Run<T>>,
    pending_len: usize,
    acc: VarPartial,
}

pub(crate) struct VarTile {
    n: [f64; TILE],
    mean: [f64; TILE],
    m2: [f64; TILE],
}

struct Sums {
    s: [f64; LANES],
    q: [f64; LANES],
    n: [u64; LANES],
}

#[inline(always)]
fn valid<T: Element, P: NanPolicy>(x: f64) -> bool {
    !(P::IGNORE && T::IS_FLOAT && x.is_nan())
}

impl<T: Element, P: NanPolicy> Var<T, P> {
    /// Two-pass reduction of one block of runs.
    ///
    /// # Safety
    /// Every run must be valid, as in [`Kernel::feed`].
    #[inline(always)]
    unsafe fn block(runs: &[Run<T>]) -> VarPartial {
        let mut sums = Sums {
            s: [0.0; LANES],
            q: [0.0; LANES],
            n: [0; LANES],
        };
        for r in runs {
            // SAFETY: each run is valid (this function's contract).
            unsafe {
                for_each_block::<T, _, LANES>(
                    &mut sums,
                    r.ptr,
                    r.len,
                    r.stride,
                    pad::<T, P>(),
                    #[inline(always)]
                    |a, block| {
                        for j in 0..LANES {
                            let x = block[j].to_f64();
                            let v = valid::<T, P>(x);
                            a.s[j] += if v { x } else { 0.0 };
                            a.n[j] += v as u64;
                        }
                    },
                    #[inline(always)]
                    |a, j, x| {
                        let x = x.to_f64();
                        let v = valid::<T, P>(x);
                        a.s[j] += if v { x } else { 0.0 };
                        a.n[j] += v as u64;
                    },
                )
            }
        }
        let n = tree(
            sums.n,
            #[inline(always)]
            |a, b| a + b,
        ) as f64;
        if n == 0.0 {
            return VarPartial::EMPTY;
        }
        let shift = tree(
            sums.s,
            #[inline(always)]
            |a, b| a + b,
        ) / n;
        let mut dev = Sums {
            s: [0.0; LANES],
            q: [0.0; LANES],
            n: [0; LANES],
        };
        for r in runs {
            // SAFETY: as above.
            unsafe {
                for_each_block::<T, _, LANES>(
                    &mut dev,
                    r.ptr,
                    r.len,
                    r.stride,
                    pad::<T, P>(),
                    #[inline(always)]
                    |a, block| {
                        for j in 0..LANES {
                            let x = block[j].to_f64();
                            let d = if valid::<T, P>(x) { x - shift } else { 0.0 };
                            a.s[j] += d;
                            a.q[j] += d * d;
                        }
                    },
                    #[inline(always)]
                    |a, j, x| {
                        let x = x.to_f64();
                        let d = if valid::<T, P>(x) { x - shift } else { 0.0 };
                        a.s[j] += d;
                        a.q[j] += d * d;
                    },
                )
            }
        }
        let s = tree(
            dev.s,
            #[inline(always)]
            |a, b| a + b,
        );
        let q = tree(
            dev.q,
            #[inline(always)]
            |a, b| a + b,
        );
        let m2 = q - s * (s / n);
        VarPartial {
            n,
            mean: shift + s / n,
            // Rounding can leave a tiny negative; NaN stays NaN.
            m2: if m2 < 0.0 { 0.0 } else { m2 },
        }
    }

    /// Reduce the pending runs as one block, if there are any.
    #[inline(always)]
    fn drain<S: Simd>(simd: S, lanes: &mut VarLanes<T>) {
        if !lanes.pending.is_empty() {
            // The pending runs were valid when fed and stay borrowed for the reduction.
            let b = outlined(
                simd,
                BlockOp::<T, P> {
                    runs: &lanes.pending,
                    _policy: PhantomData,
                },
            );
            lanes.acc = lanes.acc.merge(b);
            lanes.pending.clear();
            lanes.pending_len = 0;
        }
    }
}

/// [`Var::block`] as a SIMD operation, run through [`outlined`]: its two passes are compiled
/// once per SIMD level and called from the three places that close a block.
struct BlockOp<'a, T, P> {
    /// Valid runs (the contract of [`Kernel::feed`], under which every `BlockOp` is made).
    runs: &'a [Run<T>],
    _policy: PhantomData<P>,
}

impl<T: Element, P: NanPolicy> WithSimd for BlockOp<'_, T, P> {
    type Output = VarPartial;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> VarPartial {
        // SAFETY: a `BlockOp` is only made from runs handed to `feed`, whose contract makes
        // every element valid, and the elements stay borrowed for the whole reduction.
        unsafe { Var::<T, P>::block(self.runs) }
    }
}

impl<T: Element, P: NanPolicy> Kernel<T> for Var<T, P> {
    type Lanes = VarLanes<T>;
    type Tile = Box<VarTile>;
    type Partial = VarPartial;

    #[inline(always)]
    fn lanes(&self) -> VarLanes<T> {
        VarLanes {
            pending: Vec::new(),
            pending_len: 0,
            acc: VarPartial::EMPTY,
        }
    }

    #[inline(always)]
    unsafe fn feed<S: Simd>(
        &self,
        simd: S,
        lanes: &mut VarLanes<T>,
        ptr: *const T,
        len: usize,
        stride: isize,
    ) {
        if len >= BLOCK {
            Self::drain(simd, lanes);
            let mut start = 0;
            while start < len {
                let n = BLOCK.min(len - start);
                let run = Run {
                    ptr: ptr.wrapping_offset(start as isize * stride),
                    len: n,
                    stride,
                };
                // A piece of a valid run is valid (this function's contract).
                let b = outlined(
                    simd,
                    BlockOp::<T, P> {
                        runs: &[run],
                        _policy: PhantomData,
                    },
                );
                lanes.acc = lanes.acc.merge(b);
                start += n;
            }
        } else {
            lanes.pending.push(Run { ptr, len, stride });
            lanes.pending_len += len;
            if lanes.pending_len >= BLOCK {
                Self::drain(simd, lanes);
            }
        }
    }

    #[inline(always)]
    fn finish<S: Simd>(&self, simd: S, mut lanes: VarLanes<T>) -> VarPartial {
        Self::drain(simd, &mut lanes);
        lanes.acc
    }

    #[inline(always)]
    fn combine(&self, a: VarPartial, b: VarPartial) -> VarPartial {
        a.merge(b)
    }

    fn tile(&self) -> Box<VarTile> {
        Box::new(VarTile {
            n: [0.0; TILE],
            mean: [0.0; TILE],
            m2: [0.0; TILE],
        })
    }

    #[inline(always)]
    unsafe fn push_row(&self, tile: &mut Box<VarTile>, ptr: *const T, len: usize, stride: isize) {
        let t = &mut **tile;
        let (n, mean, m2) = (&mut t.n[..len], &mut t.mean[..len], &mut t.m2[..len]);
        // SAFETY: forwarded from this function's contract.
        unsafe {
            for_each_in_row(
                ptr,
                len,
                stride,
                #[inline(always)]
                |j, x| {
                    let x = x.to_f64();
                    if valid::<T, P>(x) {
                        n[j] += 1.0;
                        let d = x - mean[j];
                        mean[j] += d / n[j];
                        m2[j] += d * (x - mean[j]);
                    }
                },
            )
        }
    }

    #[inline(always)]
    fn flush(&self, _tile: &mut Box<VarTile>, _len: usize) {}

    fn tile_partial(&self, tile: &Box<VarTile>, j: usize) -> VarPartial {
        VarPartial {
            n: tile.n[j],
            mean: tile.mean[j],
            m2: tile.m2[j],
        }
    }
}
