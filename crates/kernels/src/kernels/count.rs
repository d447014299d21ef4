//! `count_nonzero`, `any` and `all`: how many elements of each output are not zero.
//!
//! An element counts when `x != 0`: NaN counts (numpy's truth value of NaN is true), `-0.0`
//! does not. bool is read as bytes (see `dynamic.rs`), so any nonzero byte is true, as numpy
//! reads it. A count is exact (`u64` lanes), so `any` (`count > 0`) and `all` (`count == n`)
//! follow from it, and every layout, thread count and SIMD level gives the same answer.
//! (No early exit for `any`/`all`: the count reads every element, as numpy's logical
//! reductions do.)

use super::{tree, Kernel, LANES, TILE};
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

/// The vertical path's counts, one per output.
pub(crate) struct CountTile {
    count: [u64; TILE],
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
        Box::new(CountTile { count: [0; TILE] })
    }

    #[inline(always)]
    unsafe fn push_row(&self, tile: &mut Box<CountTile>, ptr: *const T, len: usize, stride: isize) {
        let count = &mut tile.count[..len];
        // SAFETY: forwarded from this function's contract.
        unsafe {
            for_each_in_row(
                ptr,
                len,
                stride,
                #[inline(always)]
                |j, x| count[j] += nonzero(x),
            )
        }
    }

    #[inline(always)]
    fn flush(&self, _tile: &mut Box<CountTile>, _len: usize) {}

    fn tile_partial(&self, tile: &Box<CountTile>, j: usize) -> u64 {
        tile.count[j]
    }
}
