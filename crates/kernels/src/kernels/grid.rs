//! The smallest magnitude other than zero of each output: the proof behind short float sums
//! that lie exactly halfway between two floats (see `dynamic::settle`). Every element is then
//! a multiple of that magnitude's last bit, and so is every quantity the sum kernels make from
//! them; a partial whose error bound is below that bit is exact. Run only when outputs are
//! undecided, as one more reduction over the same axes (SIMD, threads, any layout).

use super::{tree, Kernel, TILE};
use crate::element::Element;
use crate::walk::{for_each_block, for_each_in_row};
use pulp::Simd;
use std::marker::PhantomData;

/// Lanes: a minimum's latency needs few, and short rows pay for every lane at the end.
const LANES: usize = 16;

/// `|x|`, with zero and NaN as +inf (they leave the minimum alone).
#[inline(always)]
pub(crate) fn magnitude<T: Element>(x: T) -> f64 {
    let a = x.to_f64().abs();
    if a > 0.0 {
        a
    } else {
        f64::INFINITY
    }
}

/// The smallest nonzero magnitude (+inf where there is none).
pub(crate) struct Smallest<T>(PhantomData<T>);

impl<T> Smallest<T> {
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: Element> Kernel<T> for Smallest<T> {
    type Lanes = [f64; LANES];
    type Tile = Box<[f64; TILE]>;
    type Partial = f64;

    #[inline(always)]
    fn lanes(&self) -> [f64; LANES] {
        [f64::INFINITY; LANES]
    }

    #[inline(always)]
    unsafe fn feed<S: Simd>(
        &self,
        _simd: S,
        lanes: &mut [f64; LANES],
        ptr: *const T,
        len: usize,
        stride: isize,
    ) {
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
                        l[j] = l[j].min(magnitude(block[j]));
                    }
                },
                #[inline(always)]
                |l, j, x| l[j] = l[j].min(magnitude(x)),
            )
        }
    }

    #[inline(always)]
    fn finish<S: Simd>(&self, _simd: S, lanes: [f64; LANES]) -> f64 {
        tree(lanes, f64::min)
    }

    #[inline(always)]
    fn combine(&self, a: f64, b: f64) -> f64 {
        a.min(b)
    }

    fn tile(&self) -> Box<[f64; TILE]> {
        Box::new([f64::INFINITY; TILE])
    }

    #[inline(always)]
    unsafe fn push_row(
        &self,
        tile: &mut Box<[f64; TILE]>,
        ptr: *const T,
        len: usize,
        stride: isize,
    ) {
        let t = &mut tile[..len];
        // SAFETY: forwarded from this function's contract.
        unsafe {
            for_each_in_row(
                ptr,
                len,
                stride,
                #[inline(always)]
                |j, x| t[j] = t[j].min(magnitude(x)),
            )
        }
    }

    #[inline(always)]
    fn flush(&self, _tile: &mut Box<[f64; TILE]>, _len: usize) {}

    fn tile_partial(&self, tile: &Box<[f64; TILE]>, j: usize) -> f64 {
        tile[j]
    }
}
