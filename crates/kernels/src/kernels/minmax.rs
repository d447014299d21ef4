//! min and max, with NaN handled explicitly.
//!
//! A lane keeps the best value seen with a compare-and-select (`x < m`), which a NaN never
//! wins, and a flag: under [`super::Propagate`] "a NaN was seen" (the result is then NaN), under
//! [`super::Ignore`] "a non-NaN was seen" (if not, the slice was all-NaN: NaN plus numpy's
//! RuntimeWarning). SIMD min/max instructions are not used for floats because their NaN
//! behaviour differs between instruction sets; the select compiles to compare + blend.
//! Integers never set the flag.

use super::{tree, Kernel, NanPolicy, LANES, ROWS, TILE};
use crate::element::sealed::Sealed;
use crate::element::Element;
use crate::walk::{for_each_block, for_each_in_row};
use pulp::Simd;
use std::marker::PhantomData;

/// Best value so far and the NaN flag (meaning depends on the policy, see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MinMaxPartial<T> {
    pub best: T,
    pub flag: bool,
}

impl<T: PartialOrd + Copy> MinMaxPartial<T> {
    /// The state of the union of two disjoint sets, `self` first: on a tie `self`'s value
    /// stays (which matters only for signed zeros).
    #[inline(always)]
    pub(crate) fn combine<const MAX: bool>(self, b: Self) -> Self {
        Self {
            best: better::<T, MAX>(b.best, self.best),
            flag: self.flag | b.flag,
        }
    }
}

/// `MAX = false` for min, `true` for max.
pub(crate) struct MinMax<T, P, const MAX: bool>(PhantomData<(T, P)>);

impl<T, P, const MAX: bool> MinMax<T, P, MAX> {
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

pub(crate) struct MinMaxLanes<T: Element> {
    best: [T; LANES],
    /// The flag as a lane as wide as `T` (see `Sealed::Flag`): nonzero is true.
    flag: [<T as Sealed>::Flag; LANES],
}

pub(crate) struct MinMaxTile<T: Element> {
    /// Two copies of the best values: a row reads `best[cur]` and writes the other, then
    /// `cur` flips (see `push_row`).
    best: [[T; TILE]; 2],
    cur: usize,
    /// As wide as `T`, like the lanes' flags.
    flag: [<T as Sealed>::Flag; TILE],
}

#[inline(always)]
fn better<T: PartialOrd, const MAX: bool>(x: T, best: T) -> T {
    if MAX {
        if x > best {
            x
        } else {
            best
        }
    } else if x < best {
        x
    } else {
        best
    }
}

#[inline(always)]
fn flag_of<T: Element, P: NanPolicy>(x: T) -> bool {
    if !T::IS_FLOAT {
        false
    } else if P::IGNORE {
        !x.is_nan()
    } else {
        x.is_nan()
    }
}

/// [`flag_of`] as a lane flag.
#[inline(always)]
fn lane_flag<T: Element, P: NanPolicy>(x: T) -> <T as Sealed>::Flag {
    flag_of::<T, P>(x).into()
}

impl<T: Element, P: NanPolicy, const MAX: bool> MinMax<T, P, MAX> {
    #[inline(always)]
    fn identity() -> T {
        if MAX {
            T::MAX_IDENTITY
        } else {
            T::MIN_IDENTITY
        }
    }
}

impl<T: Element, P: NanPolicy, const MAX: bool> MinMax<T, P, MAX> {
    /// `push_rows` for `ROWS` rows of stride `C` (1 or 2, a constant so that the compiler
    /// loads whole vectors): each output's best value and flag stay in registers for the
    /// rows, which are taken in order, exactly as `push_row` row after row.
    ///
    /// # Safety
    /// `rows[r] + j * C` must be a valid `T` for every row `r` and `j < len`, `len >= 1`.
    #[inline(always)]
    unsafe fn push_rows_strided<const C: usize>(
        tile: &mut MinMaxTile<T>,
        rows: [*const T; ROWS],
        len: usize,
    ) {
        // SAFETY: elements 0, C, ..., (len - 1) * C of each row are valid (our contract), and
        // so is everything between them: they lie in one row of the view.
        let rows: [&[T]; ROWS] = std::array::from_fn(|r| unsafe {
            std::slice::from_raw_parts(rows[r], (len - 1) * C + 1)
        });
        let [b0, b1] = &mut tile.best;
        let (from, to) = if tile.cur == 0 { (b0, b1) } else { (b1, b0) };
        tile.cur ^= 1;
        let (from, to, flag) = (&from[..len], &mut to[..len], &mut tile.flag[..len]);
        for j in 0..len {
            let (mut b, mut f) = (from[j], flag[j]);
            for row in &rows {
                b = better::<T, MAX>(row[j * C], b);
                f = f | lane_flag::<T, P>(row[j * C]);
            }
            to[j] = b;
            flag[j] = f;
        }
    }
}

impl<T: Element, P: NanPolicy, const MAX: bool> Kernel<T> for MinMax<T, P, MAX> {
    type Lanes = MinMaxLanes<T>;
    type Tile = Box<MinMaxTile<T>>;
    type Partial = MinMaxPartial<T>;
    const BY_BYTES: bool = true;

    #[inline(always)]
    fn lanes(&self) -> MinMaxLanes<T> {
        MinMaxLanes {
            best: [Self::identity(); LANES],
            flag: [Default::default(); LANES],
        }
    }

    #[inline(always)]
    unsafe fn feed<S: Simd>(
        &self,
        _simd: S,
        lanes: &mut MinMaxLanes<T>,
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
                // Fills a short last block without changing a lane: NaN under the
                // nan-functions (never better, and not "a value other than NaN"); else the
                // identity (never better, not NaN).
                Some(if P::IGNORE && T::IS_FLOAT {
                    T::NAN
                } else {
                    Self::identity()
                }),
                #[inline(always)]
                |l, block| {
                    for j in 0..LANES {
                        l.best[j] = better::<T, MAX>(block[j], l.best[j]);
                    }
                    // The flag is an OR over the whole run, so the block's flags fold into
                    // a quarter of the lanes first: with one flag accumulator per lane,
                    // AVX2's 16 registers held 8 best and 8 flag vectors plus constants,
                    // and the spills and register moves in the loop held a single thread's
                    // f64 min of cold memory to 8.6-10 GB/s against a plain loop's 12-14.
                    // (`isnan(a) | isnan(b)` also compiles to one unordered compare.)
                    for j in 0..LANES / 4 {
                        let q = LANES / 4;
                        l.flag[j] = l.flag[j]
                            | ((lane_flag::<T, P>(block[j]) | lane_flag::<T, P>(block[j + q]))
                                | (lane_flag::<T, P>(block[j + 2 * q])
                                    | lane_flag::<T, P>(block[j + 3 * q])));
                    }
                    if !T::IS_FLOAT {
                        // For integers the compiler recognises 32 separate min reductions and
                        // vectorises across blocks with gathers (i32 min of 1e7 read 8 GB/s,
                        // a fifth of numpy). An empty asm statement in the loop stops that
                        // loop vectorisation (it cannot be vectorised) and touches neither
                        // memory nor registers, so the lanes stay in registers and are
                        // vectorised within the block. (`black_box` did the same at the cost
                        // of a store and a load of every lane per block.)
                        super::opaque_step();
                    }
                },
                #[inline(always)]
                |l, j, x| {
                    l.best[j] = better::<T, MAX>(x, l.best[j]);
                    l.flag[j] = l.flag[j] | lane_flag::<T, P>(x);
                },
            )
        }
    }

    #[inline(always)]
    fn finish<S: Simd>(&self, _simd: S, lanes: MinMaxLanes<T>) -> MinMaxPartial<T> {
        let parts: [MinMaxPartial<T>; LANES] = std::array::from_fn(
            #[inline(always)]
            |j| MinMaxPartial {
                best: lanes.best[j],
                flag: lanes.flag[j] != Default::default(),
            },
        );
        tree(
            parts,
            #[inline(always)]
            |a, b| self.combine(a, b),
        )
    }

    #[inline(always)]
    fn combine(&self, a: MinMaxPartial<T>, b: MinMaxPartial<T>) -> MinMaxPartial<T> {
        a.combine::<MAX>(b)
    }

    fn tile(&self) -> Box<MinMaxTile<T>> {
        Box::new(MinMaxTile {
            best: [[Self::identity(); TILE]; 2],
            cur: 0,
            flag: [Default::default(); TILE],
        })
    }

    #[inline(always)]
    unsafe fn push_row(
        &self,
        tile: &mut Box<MinMaxTile<T>>,
        ptr: *const T,
        len: usize,
        stride: isize,
    ) {
        let t = &mut **tile;
        // Each row reads the best values from one copy and writes them to the other: with
        // one array, `best[j] = better(x, best[j])` became a masked store (`vmaskmovpd`, the
        // compiler storing only the lanes that changed), which is microcoded on AMD: a
        // 4000x4000 f64 max over axis 0 ran at half numpy's speed.
        let [b0, b1] = &mut t.best;
        let (from, to) = if t.cur == 0 { (b0, b1) } else { (b1, b0) };
        t.cur ^= 1;
        let (from, to, flag) = (&from[..len], &mut to[..len], &mut t.flag[..len]);
        // SAFETY: forwarded from this function's contract.
        unsafe {
            for_each_in_row(
                ptr,
                len,
                stride,
                #[inline(always)]
                |j, x| {
                    to[j] = better::<T, MAX>(x, from[j]);
                    flag[j] = flag[j] | lane_flag::<T, P>(x);
                },
            )
        }
    }

    #[inline(always)]
    fn batches_rows(&self, stride: isize) -> bool {
        stride == 1 || stride == 2
    }

    #[inline(always)]
    unsafe fn push_rows<S: Simd>(
        &self,
        _simd: S,
        tile: &mut Box<MinMaxTile<T>>,
        rows: &[*const T],
        len: usize,
        stride: isize,
    ) {
        if !self.batches_rows(stride) || rows.len() != ROWS || len == 0 {
            for &p in rows {
                // SAFETY: forwarded from this function's contract.
                unsafe { self.push_row(tile, p, len, stride) };
            }
            return;
        }
        let rows: [*const T; ROWS] = std::array::from_fn(|r| rows[r]);
        // SAFETY: forwarded from this function's contract, with the stride it was given.
        unsafe {
            if stride == 1 {
                Self::push_rows_strided::<1>(tile, rows, len)
            } else {
                Self::push_rows_strided::<2>(tile, rows, len)
            }
        }
    }

    #[inline(always)]
    fn flush(&self, _tile: &mut Box<MinMaxTile<T>>, _len: usize) {}

    fn tile_partial(&self, tile: &Box<MinMaxTile<T>>, j: usize) -> MinMaxPartial<T> {
        MinMaxPartial {
            best: tile.best[tile.cur][j],
            flag: tile.flag[j] != Default::default(),
        }
    }
}

/// `ptp`: the minimum and the maximum in one reading of the data. Each run goes through the
/// min kernel and then, while it is still in cache, the max kernel (a lane-path unit is at
/// most 256 KiB, half of a Zen 3 L2), so memory is read once; numpy's `ptp` reads it twice
/// (`amax(a) - amin(a)`). NaN propagates (numpy has no `nanptp`).
pub(crate) struct Range<T>(
    MinMax<T, super::Propagate, false>,
    MinMax<T, super::Propagate, true>,
);

impl<T> Range<T> {
    pub fn new() -> Self {
        Self(MinMax::new(), MinMax::new())
    }
}

impl<T: Element> Kernel<T> for Range<T> {
    type Lanes = (MinMaxLanes<T>, MinMaxLanes<T>);
    type Tile = (Box<MinMaxTile<T>>, Box<MinMaxTile<T>>);
    /// (minimum, maximum).
    type Partial = (MinMaxPartial<T>, MinMaxPartial<T>);
    const BY_BYTES: bool = true;

    #[inline(always)]
    fn lanes(&self) -> Self::Lanes {
        (self.0.lanes(), self.1.lanes())
    }

    #[inline(always)]
    unsafe fn feed<S: Simd>(
        &self,
        simd: S,
        lanes: &mut Self::Lanes,
        ptr: *const T,
        len: usize,
        stride: isize,
    ) {
        // SAFETY: forwarded from this function's contract, for each kernel.
        unsafe {
            self.0.feed(simd, &mut lanes.0, ptr, len, stride);
            self.1.feed(simd, &mut lanes.1, ptr, len, stride);
        }
    }

    #[inline(always)]
    fn finish<S: Simd>(&self, simd: S, lanes: Self::Lanes) -> Self::Partial {
        (self.0.finish(simd, lanes.0), self.1.finish(simd, lanes.1))
    }

    #[inline(always)]
    fn combine(&self, a: Self::Partial, b: Self::Partial) -> Self::Partial {
        (self.0.combine(a.0, b.0), self.1.combine(a.1, b.1))
    }

    fn tile(&self) -> Self::Tile {
        (self.0.tile(), self.1.tile())
    }

    #[inline(always)]
    unsafe fn push_row(&self, tile: &mut Self::Tile, ptr: *const T, len: usize, stride: isize) {
        // SAFETY: forwarded from this function's contract, for each kernel.
        unsafe {
            self.0.push_row(&mut tile.0, ptr, len, stride);
            self.1.push_row(&mut tile.1, ptr, len, stride);
        }
    }

    #[inline(always)]
    fn batches_rows(&self, stride: isize) -> bool {
        self.0.batches_rows(stride)
    }

    #[inline(always)]
    unsafe fn push_rows<S: Simd>(
        &self,
        simd: S,
        tile: &mut Self::Tile,
        rows: &[*const T],
        len: usize,
        stride: isize,
    ) {
        // SAFETY: forwarded from this function's contract, for each kernel.
        unsafe {
            self.0.push_rows(simd, &mut tile.0, rows, len, stride);
            self.1.push_rows(simd, &mut tile.1, rows, len, stride);
        }
    }

    #[inline(always)]
    fn flush(&self, tile: &mut Self::Tile, len: usize) {
        self.0.flush(&mut tile.0, len);
        self.1.flush(&mut tile.1, len);
    }

    #[inline(always)]
    fn seal(&self, tile: &mut Self::Tile, len: usize) {
        self.0.seal(&mut tile.0, len);
        self.1.seal(&mut tile.1, len);
    }

    fn tile_partial(&self, tile: &Self::Tile, j: usize) -> Self::Partial {
        (
            self.0.tile_partial(&tile.0, j),
            self.1.tile_partial(&tile.1, j),
        )
    }
}
