//! min and max, with NaN handled explicitly.
//!
//! A lane keeps the best value seen with a compare-and-select (`x < m`), which a NaN never
//! wins, and a flag: under [`super::Propagate`] "a NaN was seen" (the result is then NaN), under
//! [`super::Ignore`] "a non-NaN was seen" (if not, the slice was all-NaN: NaN plus numpy's
//! RuntimeWarning). SIMD min/max instructions are not used for floats because their NaN
//! behaviour differs between instruction sets; the select compiles to compare + blend. (The
//! one exception, f64 runs at stride 2 at AVX2 and AVX-512, names x86's instructions, whose
//! behaviour is the select's: see `f64_pairs`.)
//! Integers never set the flag.

#[cfg(target_arch = "x86_64")]
use super::same;
use super::{tree, Kernel, NanPolicy, LANES, ROWS, TILE};
use crate::element::sealed::Sealed;
use crate::element::{ElemType, Element};
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

/// Whether `T` is f64 (the one element type of [`f64_pairs`]).
#[inline(always)]
const fn is_f64<T: Element>() -> bool {
    matches!(T::ELEM, ElemType::F64)
}

/// The lanes' best values and flag over an f64 run at stride 2 (`a[:, ::2]`, `a[::2, ::2]`),
/// with whole-vector loads at AVX-512 and AVX2. Through [`for_each_block`] the compiler built
/// each block of such a run from gathers: max of `a[:, ::2]` of 4000x4000 f64 at 0.65x
/// numpy on one AVX-512 thread of a Zen 4. Here each block of `LANES` run elements is read as
/// the vectors that hold it (the odd elements between included) and its even lanes are
/// shuffled into place (`even_pd512`, `even_pd256`, as in the sums'
/// `even_lanes`). Element `i` goes into lane `i % LANES`, as `for_each_block` puts it, with
/// x86's `vmaxpd`/`vminpd` of `(x, best)`: lane by lane `x > best ? x : best` (`x < best`),
/// which returns the second operand on a NaN or a tie, so exactly [`better`], and every lane
/// ends bitwise as there. The flag is an ordered (`ignore`) or unordered compare of `x` with
/// itself, ORed over the whole run: only its OR over all lanes is ever read.
///
/// Returns how many run elements it took (whole blocks, and never the run's last element: a
/// block reads the element after its own last) and whether any of them set the flag. Other
/// levels take none.
///
/// # Safety
/// `ptr + 2 * i` must be a valid f64 for every `i < len` (and so is everything between).
#[inline(always)]
unsafe fn f64_pairs<S: Simd, const MAX: bool>(
    simd: S,
    best: &mut [f64; LANES],
    ptr: *const f64,
    len: usize,
    ignore: bool,
) -> (usize, bool) {
    let blocks = len.saturating_sub(1) / LANES;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m256d, __m512d, _CMP_ORD_Q, _CMP_UNORD_Q};
        if let Some(v4) = same::<S, pulp::x86::V4>(simd) {
            const V: usize = LANES / 8;
            let f = v4.avx512f;
            // SAFETY: `[f64; LANES]` is `V` vectors of 8 f64, read unaligned.
            let mut b = unsafe { best.as_ptr().cast::<[__m512d; V]>().read_unaligned() };
            let mut flag = 0u8;
            for k in 0..blocks {
                // Block k is run elements k * LANES .. (k + 1) * LANES, at f64 2 * k * LANES
                // .. 2 * (k + 1) * LANES: the last is the odd one after the block's last
                // element, before element (k + 1) * LANES < len, so all lie in the run.
                let p = ptr.wrapping_add(2 * k * LANES);
                for (v, bv) in b.iter_mut().enumerate() {
                    // SAFETY: f64 16 v .. 16 v + 16 of the block, valid (above).
                    let (lo, hi) = unsafe {
                        (
                            p.add(16 * v).cast::<__m512d>().read_unaligned(),
                            p.add(16 * v + 8).cast::<__m512d>().read_unaligned(),
                        )
                    };
                    let x = super::even_pd512(v4, lo, hi);
                    *bv = if MAX {
                        f._mm512_max_pd(x, *bv)
                    } else {
                        f._mm512_min_pd(x, *bv)
                    };
                    flag |= if ignore {
                        f._mm512_cmp_pd_mask::<_CMP_ORD_Q>(x, x)
                    } else {
                        f._mm512_cmp_pd_mask::<_CMP_UNORD_Q>(x, x)
                    };
                }
            }
            // SAFETY: as the read above.
            unsafe { best.as_mut_ptr().cast::<[__m512d; V]>().write_unaligned(b) };
            return (blocks * LANES, flag != 0);
        }
        if let Some(v3) = same::<S, pulp::x86::V3>(simd) {
            const V: usize = LANES / 4;
            let a = v3.avx;
            // SAFETY: `[f64; LANES]` is `V` vectors of 4 f64, read unaligned.
            let mut b = unsafe { best.as_ptr().cast::<[__m256d; V]>().read_unaligned() };
            let mut flag = a._mm256_setzero_pd();
            for k in 0..blocks {
                // As at AVX-512.
                let p = ptr.wrapping_add(2 * k * LANES);
                for (v, bv) in b.iter_mut().enumerate() {
                    // SAFETY: f64 8 v .. 8 v + 8 of the block, valid (above).
                    let (lo, hi) = unsafe {
                        (
                            p.add(8 * v).cast::<__m256d>().read_unaligned(),
                            p.add(8 * v + 4).cast::<__m256d>().read_unaligned(),
                        )
                    };
                    let x = super::even_pd256(v3, lo, hi);
                    *bv = if MAX {
                        a._mm256_max_pd(x, *bv)
                    } else {
                        a._mm256_min_pd(x, *bv)
                    };
                    let m = if ignore {
                        a._mm256_cmp_pd::<_CMP_ORD_Q>(x, x)
                    } else {
                        a._mm256_cmp_pd::<_CMP_UNORD_Q>(x, x)
                    };
                    flag = a._mm256_or_pd(flag, m);
                }
            }
            // SAFETY: as the read above.
            unsafe { best.as_mut_ptr().cast::<[__m256d; V]>().write_unaligned(b) };
            return (blocks * LANES, a._mm256_movemask_pd(flag) != 0);
        }
    }
    let _ = (simd, best, ptr, blocks, ignore);
    (0, false)
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
        simd: S,
        lanes: &mut MinMaxLanes<T>,
        ptr: *const T,
        len: usize,
        stride: isize,
    ) {
        let (mut ptr, mut len) = (ptr, len);
        if const { is_f64::<T>() } && stride == 2 {
            // SAFETY: `T` is f64 (`is_f64`), so `[T; LANES]` is `[f64; LANES]` and the run
            // is `len` f64 at stride 2 (our contract).
            let (took, seen) = unsafe {
                let best = &mut *(&mut lanes.best as *mut [T; LANES]).cast::<[f64; LANES]>();
                f64_pairs::<S, MAX>(simd, best, ptr.cast(), len, P::IGNORE)
            };
            // Any lane's flag stands for all (only their OR is read, see `f64_pairs`).
            lanes.flag[0] = lanes.flag[0] | seen.into();
            // The rest of the run starts at a multiple of `LANES`: its elements go into the
            // same lanes as before.
            (ptr, len) = (ptr.wrapping_add(2 * took), len - took);
        }
        // SAFETY: forwarded from this function's contract (the rest of the run, if any of
        // it was taken above).
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
