//! A type-erased entry point: the element type and the reduction are values, the memory is a
//! pointer with strides, and the result is [`Partials`] (which [`Partials::finalise`] turns
//! into numpy's values).
//!
//! Every (type, reduction) pair is instantiated here, in this crate, once; every other way in
//! comes through `partials_of_elements`: the generic functions of the crate root, and the
//! bindings through [`crate::RawArray`] (memory described by foreign producers). So a crate
//! that calls them, the test binaries included, links the kernels compiled here instead of
//! instantiating every kernel at every SIMD level again.

use crate::arg_driver::{arg_reduce, Answers};
use crate::driver::{map_units, reduce_all, reduce_axes, short_columns};
use crate::element::{Bool8, FloatElement, IntElement};
pub use crate::element::{ElemType, Values};
use crate::kernels::arg::{NAN_WORST, PLAIN, TRUTH};
use crate::kernels::count::NonZero;
use crate::kernels::exact::{ExactColumns, ExactSum, BLOCK, GROUP};
use crate::kernels::grid::{magnitude, Smallest};
use crate::kernels::int_sum::IntSum;
use crate::kernels::minmax::{MinMax, Range};
use crate::kernels::prod::{FloatProd, IntProd};
use crate::kernels::sum::{grid, proven_exact, FloatPartial, FloatSum};
use crate::kernels::var::{Rescaled, Var};
use crate::kernels::Kernel;
use crate::layout::Layout;
pub use crate::ops::Op;
use crate::ops::{Family, NanHandling};
use crate::partials::{decided_float, ExactPartials, FloatOut, Partials, State};
use crate::walk::{
    for_each_element, for_each_row_group, for_each_slice_f64, Floats, SharedPtr, Split,
};
use crate::{layout, simd_level, Element, Ignore, Propagate, ReduceError, Reduced, Reduction};
use crate::{StridedView, Value, Warning};

/// The result of a type-erased reduction: `shape` is empty for a full reduction (one value).
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The kept axes, in order (`[]` for a full reduction).
    pub shape: Vec<usize>,
    /// The values in C order.
    pub values: Values,
    /// numpy's RuntimeWarning, if any.
    pub warning: Option<Warning>,
}

impl Outcome {
    /// The one value of a full reduction, typed.
    pub(crate) fn into_reduced<R: Value>(self) -> Reduced<R> {
        let v = R::from_values(self.values).expect("the result type of the reduction");
        debug_assert_eq!(v.len(), 1);
        Reduced {
            value: v[0],
            warning: self.warning,
        }
    }

    /// The values of an axis reduction, typed.
    pub(crate) fn into_reduction<R: Value>(self) -> Reduction<R> {
        Reduction {
            shape: self.shape,
            data: R::from_values(self.values).expect("the result type of the reduction"),
            warning: self.warning,
        }
    }
}

/// The kept shape, the number of elements reduced into each output, and the outputs' states.
type Run<S> = Result<(Vec<usize>, u64, S), ReduceError>;

/// The per-output partials of `kernel` over `over` of `view` (`None`: every axis).
fn run<T: Element, K: Kernel<T>>(
    kernel: K,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
) -> Run<Vec<K::Partial>> {
    let level = simd_level();
    let Some(axes) = over else {
        let all = reduce_all(&kernel, view, level);
        return Ok((Vec::new(), view.len() as u64, vec![all]));
    };
    let axes = layout::resolve_axes(axes, view.ndim())?;
    let count: usize = axes.iter().map(|&a| view.shape()[a]).product();
    let (shape, parts) = reduce_axes(&kernel, view, &axes, level);
    Ok((shape, count as u64, parts))
}

/// What every builder below returns.
type Built = Run<State>;

/// sum and mean (and their nan-variants) of float elements: compensated sums with an error
/// bound, settled (see [`settle`]).
fn float_sums<T: FloatElement>(op: Op, view: &StridedView<'_, T>, over: Option<&[isize]>) -> Built {
    let (shape, count, mut parts) = match op.info().nan {
        NanHandling::Propagate => run(FloatSum::<T, Propagate>::new(), view, over)?,
        NanHandling::Ignore => run(FloatSum::<T, Ignore>::new(), view, over)?,
    };
    settle(op, view, over, count, &mut parts)?;
    Ok((shape, count, State::Float(parts)))
}

/// Elements per output from which [`settle`] sums undecided outputs exactly at once, without
/// first trying to prove their partials exact.
const LONG_OUTPUT: u64 = 1 << 14;

/// Elements per work unit of a long output's exact sum, at most.
const EXACT_UNIT: usize = 1 << 16;

/// Elements per work unit of the exact sum of an output of `count` elements: as few units as
/// `EXACT_UNIT` allows, of even size (whole blocks of `ExactSum::add_all`'s 2048). 1e5
/// elements are 51200 + 48800, not 65536 + 34464: on two threads the caller and the hand-off
/// helper finish at about the same time.
fn exact_unit(count: usize) -> usize {
    let units = count.div_ceil(EXACT_UNIT).max(1);
    count.div_ceil(units).next_multiple_of(2048).max(2048)
}

/// The correct-rounding step of float sums and means: every output whose partial's bound
/// does not decide its rounding (`partials::decided_float`: heavy cancellation, a sum within
/// the bound of a rounding boundary, infinities, an overflowing partial sum) is summed again,
/// exactly (`kernels/exact.rs`), element by element. The partial is replaced by the exact
/// one, which decides every rounding; so the result depends on the values only.
fn settle<T: FloatElement>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
    count: u64,
    parts: &mut [FloatPartial],
) -> Result<(), ReduceError> {
    let undecided = |p: &FloatPartial| undecided(op, T::ELEM, count, p);
    // One check per output here (short rows have many outputs): first the common cases
    // (`FloatOut::quick`: a partial proven exact, or a bound inside the result's gaps), in
    // one pass at the SIMD level that lists the outputs they leave; the closure was a call
    // per output.
    let kind = FloatOut::of(op, T::ELEM, count);
    let mut todo: Vec<(usize, FloatPartial)> = kind
        .misses(parts)
        .into_iter()
        .filter(|&o| undecided(&parts[o]))
        .map(|o| (o, parts[o]))
        .collect();
    if todo.is_empty() {
        return Ok(());
    }
    settle_these(op, view, over, count, parts.len(), &mut todo)?;
    for (o, p) in todo {
        parts[o] = p;
    }
    Ok(())
}

/// Whether the bound of `p`, an output of `op` over `elem`s (`count` elements an output),
/// leaves its result undecided (a mean of no elements is decided: NaN).
#[inline(always)]
fn undecided(op: Op, elem: ElemType, count: u64, p: &FloatPartial) -> bool {
    let info = op.info();
    let divisor = match info.family {
        Family::Mean => match if info.nan == NanHandling::Ignore {
            p.n
        } else {
            count
        } {
            0 => return false, // NaN, whatever the sum
            n => Some(n as f64),
        },
        _ => None,
    };
    decided_float(op.result_type(elem), *p, divisor).is_none()
}

/// [`settle`] of the partials in `todo` (output index, partial), some of the `outputs`
/// outputs: each that its bound does not decide is proven exact or summed again exactly.
fn settle_these<T: FloatElement>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
    count: u64,
    outputs_len: usize,
    todo: &mut [(usize, FloatPartial)],
) -> Result<(), ReduceError> {
    let ignore = op.info().nan == NanHandling::Ignore;
    let undecided = |p: &FloatPartial| undecided(op, T::ELEM, count, p);
    if todo.iter().all(|(_, p)| !undecided(p)) {
        return Ok(());
    }
    let outputs = OutputElements::new(view, over)?;
    // The proof below needs each undecided output's smallest magnitude: read per output
    // when few are undecided, else for all at once, as one more reduction (one output in
    // eight of four f64 normals lies exactly halfway: (4, 100000) axis 0 took 4.4x its time
    // with a scalar pass per output).
    //
    // Long outputs skip the proof: the exact pass reads at about the speed of the proof's own
    // pass (`ExactSum::add_all`) and always decides, and long sums are seldom exact ties,
    // the case the proof is for (a sum of 1e7 f64 that cancels took 4x the fast path with
    // the proof, 2.5x without: fast pass, proof, exact pass against fast pass, exact pass).
    let long = count >= LONG_OUTPUT;
    let smallest_all = if long {
        None
    } else if todo.len() * 16 >= outputs_len {
        Some(run(Smallest::<T>::new(), view, over)?.2)
    } else {
        None
    };
    let mut scratch = ExactScratch::new();
    for (o, p) in todo.iter_mut() {
        let o = *o;
        if !undecided(p) {
            continue;
        }
        // First the cheap proof from the smallest magnitude (`proven_exact`, which also
        // holds for the kernels' products by whole factors), for outputs whose kernels did
        // not track it (the lanes) or whose partials were combined since; not for long ones.
        if !long {
            let smallest = match &smallest_all {
                Some(v) => v[o],
                None => {
                    let mut smallest = f64::INFINITY;
                    let one = &outputs.one;
                    // SAFETY: `first` is the output's first element and `one` reaches
                    // exactly its elements from there (`OutputElements`).
                    unsafe {
                        for_each_element(outputs.first(view, o), one, |x: T| {
                            smallest = smallest.min(magnitude(x))
                        })
                    };
                    smallest
                }
            };
            // (An infinite element, or a square beyond the largest float, left the bound
            // infinite; a NaN one is decided already.)
            if proven_exact(p.bound(), grid::<T>(smallest)) == 0.0 {
                p.err = 0.0;
                if !undecided(p) {
                    continue;
                }
            }
        }
        let (exact, n) = outputs.exact(view, o, ignore, &mut scratch);
        let (hi, lo) = exact.partial();
        *p = FloatPartial {
            hi,
            lo,
            n: if ignore { n } else { 0 },
            err: 0.0,
        };
    }
    Ok(())
}

/// Scratch of the exact pass: a block for `ExactSum::add_all`'s block code, and the numbers
/// of a slice that had NaN to skip.
struct ExactScratch {
    block: Vec<f64>,
    numbers: Vec<f64>,
    /// The bound the last output's sum guessed for its next block ([`ExactSum::guess`]):
    /// the next output's first guess (outputs of one array tend to have one scale).
    guess: Option<i32>,
}

impl ExactScratch {
    fn new() -> Self {
        Self {
            block: vec![0.0; BLOCK],
            numbers: Vec::new(),
            guess: None,
        }
    }
}

/// The elements of each output of a reduction over `over` (`None`: all axes): every output's
/// elements have the same layout (`one`, the reduced axes normalised), from their own first
/// element.
struct OutputElements {
    /// The kept axes, and their lengths.
    kept: Vec<usize>,
    kept_shape: Vec<usize>,
    /// The reduced axes' layout.
    one: Layout,
    /// Elements per output.
    count: usize,
}

impl OutputElements {
    fn new<T: Element>(
        view: &StridedView<'_, T>,
        over: Option<&[isize]>,
    ) -> Result<Self, ReduceError> {
        let reduced = match over {
            Some(axes) => layout::resolve_axes(axes, view.ndim())?,
            None => (0..view.ndim()).collect(),
        };
        let (shape, strides) = (view.shape(), view.strides());
        let kept: Vec<usize> = (0..view.ndim()).filter(|a| !reduced.contains(a)).collect();
        let kept_shape = kept.iter().map(|&a| shape[a]).collect();
        let one = layout::normalize(
            &reduced.iter().map(|&a| shape[a]).collect::<Vec<_>>(),
            &reduced.iter().map(|&a| strides[a]).collect::<Vec<_>>(),
        );
        let count = reduced.iter().map(|&a| shape[a]).product();
        Ok(Self {
            kept,
            kept_shape,
            one,
            count,
        })
    }

    /// The number of outputs.
    fn outputs(&self) -> usize {
        self.kept_shape.iter().product()
    }

    /// Whether the outputs, in C order, are consecutive elements from the view's base (the
    /// kept axes step as one run of stride 1, nothing reversed): then every reduced position
    /// is a row of all the outputs' elements, contiguous.
    fn columns<T: Element>(&self, view: &StridedView<'_, T>) -> bool {
        let mut step = 1isize;
        for (&a, &len) in self.kept.iter().zip(&self.kept_shape).rev() {
            if len == 1 {
                continue;
            }
            if view.strides()[a] != step {
                return false;
            }
            step *= len as isize;
        }
        true
    }

    /// Output `o`'s first element (index `o` along the kept axes in C order, 0 along the
    /// reduced ones): a pointer `one` reaches exactly the output's elements from.
    fn first<T: Element>(&self, view: &StridedView<'_, T>, o: usize) -> *const T {
        let (mut rest, mut base) = (o, 0isize);
        for (&a, &len) in self.kept.iter().zip(&self.kept_shape).rev() {
            base += (rest % len) as isize * view.strides()[a];
            rest /= len;
        }
        view.as_ptr().wrapping_offset(base)
    }

    /// Output `o`'s exact sum (NaN skipped when `ignore`) and the number of elements added.
    /// Outputs of [`LONG_OUTPUT`] elements or more are summed in pieces on the pool (exact
    /// sums merge exactly, in any order).
    fn exact<T: FloatElement>(
        &self,
        view: &StridedView<'_, T>,
        o: usize,
        ignore: bool,
        scratch: &mut ExactScratch,
    ) -> (ExactSum, u64) {
        let (one, at) = (&self.one, self.first(view, o));
        if (self.count as u64) < LONG_OUTPUT {
            // SAFETY: `at` is the output's first element (`first`), and `one` reaches exactly
            // its reduced positions from there: elements of the view, valid for its lifetime.
            return unsafe { exact_sum(at, one, one.whole(), ignore, scratch) };
        }
        let (split, units) = one.split(exact_unit(self.count));
        let from = SharedPtr(at);
        let sums = map_units(units, self.count, &|u| {
            let mut scratch = ExactScratch::new();
            // SAFETY: as above, for a unit of the output's elements.
            unsafe { exact_sum(from.at(0), one, (split, u), ignore, &mut scratch) }
        });
        let mut all = (ExactSum::new(), 0);
        for (s, n) in sums {
            all.0.merge(&s);
            all.1 += n;
        }
        all
    }
}

/// Most columns per tile of [`exact_columns`]: the state a group of rows touches (6 arrays
/// of 8 bytes a column, 384 KiB) stays in L2 (512 KiB on Zen 3), and its rows are long runs
/// (tiles of 256 columns, rows of 2 KiB 40 KiB apart, were read at 1.9 ns an element: a TLB
/// miss and a cold start per run; a (1342, 10000) f64 chunk took 7.8 ms in tiles of 4096
/// columns, 7.3 in tiles of 8192 or 16384, on a Zen 4).
const COLUMN_TILE: usize = 8192;

/// Rows per block of [`exact_columns`] (at most `BLOCK`, the levels' limit).
const COLUMN_ROWS: usize = 512;

/// Rows of a unit's first block, which is read twice (its magnitudes first: the σ of the
/// unit's columns come from them).
const FIRST_ROWS: usize = 16;

/// Rows per unit of [`exact_columns`] on the pool (a tile's rows are cut into units).
const COLUMN_UNIT_ROWS: usize = 4 * COLUMN_ROWS;

/// Every output's exact sum (see [`ExactPartials`]) of float elements, for the float sums and
/// means: NaN skipped by the nan-functions; the kept shape and the elements per output.
/// Outputs whose elements are consecutive across outputs (a column reduction of a C-order
/// matrix) are summed a block of rows at a time ([`exact_columns`]), the others one output
/// at a time; both in units on the pool (exact sums do not depend on the order). Each
/// output's sum leaves as its record ([`ExactSum::push_record`]).
fn exact_sums<T: FloatElement>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
) -> Result<ExactPartials, ReduceError> {
    let outputs = OutputElements::new(view, over)?;
    let ignore = op.info().nan == NanHandling::Ignore;
    let width = outputs.outputs();
    let (records, n): (Vec<i64>, Vec<u64>) = if outputs.columns(view) && width > 1 {
        exact_columns(view, &outputs, ignore)
    } else {
        // Groups of outputs of about `EXACT_UNIT` elements (long outputs are cut into units
        // inside `OutputElements::exact`).
        let per = (EXACT_UNIT / outputs.count.max(1)).max(1);
        let groups = width.div_ceil(per);
        let parts = map_units(groups, view.len(), &|g| {
            let mut scratch = ExactScratch::new();
            let (mut records, mut n) = (Vec::new(), Vec::new());
            for o in g * per..((g + 1) * per).min(width) {
                let (sum, took) = outputs.exact(view, o, ignore, &mut scratch);
                sum.push_record(&mut records);
                n.push(took);
            }
            (records, n)
        });
        let (mut records, mut n) = (Vec::new(), Vec::with_capacity(width));
        for (r, c) in parts {
            records.extend(r);
            n.extend(c);
        }
        (records, n)
    };
    let shape = outputs.kept_shape.clone();
    Ok(ExactPartials::new_unchecked(
        op,
        T::ELEM,
        shape,
        outputs.count as u64,
        records,
        n,
    ))
}

/// [`exact_sums`] of outputs that are consecutive elements ([`OutputElements::columns`]):
/// tiles of at most [`COLUMN_TILE`] columns times units of [`COLUMN_UNIT_ROWS`] rows on the
/// pool, each unit a block of rows at a time ([`ExactColumns`]); a tile's units merge
/// exactly, column by column, into the column's record.
fn exact_columns<T: FloatElement>(
    view: &StridedView<'_, T>,
    outputs: &OutputElements,
    ignore: bool,
) -> (Vec<i64>, Vec<u64>) {
    let width = outputs.outputs();
    let tiles = width.div_ceil(COLUMN_TILE);
    let tile_width = width.div_ceil(tiles);
    let rows = outputs.count;
    let parts = rows.div_ceil(COLUMN_UNIT_ROWS).max(1);
    let from = SharedPtr(view.as_ptr());
    let units = map_units(tiles * parts, view.len(), &|u| {
        let (t, p) = (u / parts, u % parts);
        let cols = t * tile_width..((t + 1) * tile_width).min(width);
        let (r0, r1) = (p * COLUMN_UNIT_ROWS, ((p + 1) * COLUMN_UNIT_ROWS).min(rows));
        let mut tile = ExactColumns::new(cols.len(), ignore);
        // (f64 rows are read in place: no buffers, whose zeroing was a page-clearing cost.)
        let widened = if T::ELEM == ElemType::F64 {
            0
        } else {
            cols.len()
        };
        let mut bufs: [Vec<f64>; GROUP] = std::array::from_fn(|_| vec![0.0f64; widened]);
        let mut start = r0;
        while start < r1 {
            let take = if start == r0 { FIRST_ROWS } else { COLUMN_ROWS };
            let count = take.min(r1 - start);
            tile.add_block(&mut |g| {
                // SAFETY: `from` is the view's base, where output 0's elements start
                // (`columns`: its first element is at offset 0 of the kept run), and the
                // reduced layout `one` reaches each row's first column; columns `cols` of a
                // row are consecutive elements of the view, valid for its lifetime.
                unsafe {
                    for_each_row_group(
                        from.at(0),
                        &outputs.one,
                        (start, count),
                        cols.clone(),
                        &mut bufs,
                        |rows| g(rows),
                    )
                }
            });
            start += count;
        }
        tile
    });
    let mut records = Vec::with_capacity(width * 3);
    let mut n = Vec::with_capacity(width);
    let mut units = units.into_iter();
    for _ in 0..tiles {
        let tile: Vec<ExactColumns> = units.by_ref().take(parts).collect();
        for j in 0..tile[0].n.len() {
            n.push(ExactColumns::push_record(&tile, j, &mut records));
        }
    }
    (records, n)
}

/// [`exact_sums`] of elements of type `elem` described by a pointer: `None` unless `op` is a
/// float sum or mean (sum, nansum, mean, nanmean) and `elem` a float type.
///
/// # Safety
/// As [`partials_of_elements`].
pub(crate) unsafe fn exact_sums_of_elements(
    elem: ElemType,
    op: Op,
    ptr: *const u8,
    shape: &[usize],
    strides: &[isize],
    over: Option<&[isize]>,
) -> Option<Result<ExactPartials, ReduceError>> {
    if !matches!(op.info().family, Family::Sum | Family::Mean) {
        return None;
    }
    match elem {
        ElemType::F32 => {
            // SAFETY: our contract, for f32 elements.
            let v = unsafe { StridedView::<f32>::from_raw_parts(ptr.cast(), shape, strides) };
            Some(exact_sums(op, &v, over))
        }
        ElemType::F64 => {
            // SAFETY: our contract, for f64 elements.
            let v = unsafe { StridedView::<f64>::from_raw_parts(ptr.cast(), shape, strides) };
            Some(exact_sums(op, &v, over))
        }
        _ => None,
    }
}

/// The exact sum of the elements of work unit `unit` of `one` based at `at` (NaN skipped
/// when `ignore`), and how many were added; `scratch`'s block (of `BLOCK` elements) and
/// numbers are scratch, its guess the first block's (and then the last block's).
///
/// # Safety
/// As [`for_each_slice_f64`].
unsafe fn exact_sum<T: FloatElement>(
    at: *const T,
    one: &Layout,
    unit: (Split, usize),
    ignore: bool,
    scratch: &mut ExactScratch,
) -> (ExactSum, u64) {
    let ExactScratch {
        block,
        numbers,
        guess,
    } = scratch;
    let mut exact = ExactSum::guessing(*guess);
    let mut n = 0;
    // f32 elements try one level first (`ExactSum::add_all_f32`).
    let narrow = T::ELEM == ElemType::F32;
    // SAFETY: our contract.
    unsafe {
        for_each_slice_f64(at, one, unit, block, |xs| {
            let has_nan = ignore
                && match xs {
                    Floats::F64(xs) => xs.iter().any(|x| x.is_nan()),
                    Floats::F32(xs) => xs.iter().any(|x| x.is_nan()),
                };
            if has_nan {
                numbers.clear();
                match xs {
                    Floats::F64(xs) => numbers.extend(xs.iter().filter(|x| !x.is_nan())),
                    Floats::F32(xs) => {
                        numbers.extend(xs.iter().filter(|x| !x.is_nan()).map(|&x| f64::from(x)))
                    }
                }
                n += numbers.len() as u64;
                exact.add_floats(Floats::F64(numbers), narrow);
            } else {
                n += xs.len() as u64;
                exact.add_floats(xs, narrow);
            }
        })
    };
    *guess = exact.guess();
    (exact, n)
}

/// [`settle`] of float elements of type `elem` described by a pointer (others: nothing to do).
///
/// # Safety
/// As [`partials_of_elements`].
#[allow(clippy::too_many_arguments)]
unsafe fn settle_raw(
    elem: ElemType,
    op: Op,
    ptr: *const u8,
    shape: &[usize],
    strides: &[isize],
    over: Option<&[isize]>,
    count: u64,
    parts: &mut [FloatPartial],
) -> Result<(), ReduceError> {
    match elem {
        ElemType::F32 => {
            // SAFETY: our contract, for f32 elements.
            let v = unsafe { StridedView::<f32>::from_raw_parts(ptr.cast(), shape, strides) };
            settle(op, &v, over, count, parts)
        }
        ElemType::F64 => {
            // SAFETY: our contract, for f64 elements.
            let v = unsafe { StridedView::<f64>::from_raw_parts(ptr.cast(), shape, strides) };
            settle(op, &v, over, count, parts)
        }
        _ => Ok(()),
    }
}

/// sum and mean of integer elements: exact, so the nan-variants are the same. Sums of 64-bit
/// elements only modulo 2^64 (numpy's result wraps; `int_sum`'s `WRAP`).
fn int_sums<T: IntElement>(op: Op, view: &StridedView<'_, T>, over: Option<&[isize]>) -> Built {
    let (shape, count, parts) =
        if const { std::mem::size_of::<T>() == 8 } && op.info().family == Family::Sum {
            run(IntSum::<T, true>::new(), view, over)?
        } else {
            run(IntSum::<T>::new(), view, over)?
        };
    Ok((shape, count, State::Int(parts)))
}

/// prod and nanprod of float elements.
fn float_prods<T: FloatElement>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
) -> Built {
    let (shape, count, parts) = match op.info().nan {
        NanHandling::Propagate => run(FloatProd::<T, Propagate>::new(), view, over)?,
        NanHandling::Ignore => run(FloatProd::<T, Ignore>::new(), view, over)?,
    };
    Ok((shape, count, State::FloatProd(parts)))
}

/// prod of integers and bool (nanprod is the same): the product modulo 2^64.
fn int_prods<T: IntElement>(view: &StridedView<'_, T>, over: Option<&[isize]>) -> Built {
    let (shape, count, parts) = run(IntProd::<T>::new(), view, over)?;
    Ok((shape, count, State::IntProd(parts)))
}

/// var and std (and their nan-variants); integers only have the plain kernel (no NaN).
fn variances<T: Element>(op: Op, view: &StridedView<'_, T>, over: Option<&[isize]>) -> Built {
    let ignore = T::IS_FLOAT && op.info().nan == NanHandling::Ignore;
    let (shape, count, mut parts) = if ignore {
        run(Var::<T, Ignore>::new(), view, over)?
    } else {
        run(Var::<T, Propagate>::new(), view, over)?
    };
    // An infinite M2 comes only from finite values whose shifted sums overflowed (any
    // infinity or NaN counted makes it NaN), an M2 below 2^-800 from tiny ones whose squares
    // were rounded to the subnormals' spacing: sum those outputs again, scaled
    // (`var::Rescaled`).
    if parts.iter().any(|p| Rescaled::scale_for(p).is_some()) {
        let outputs = OutputElements::new(view, over)?;
        for (o, p) in parts.iter_mut().enumerate() {
            let Some(scale) = Rescaled::scale_for(p) else {
                continue;
            };
            let mut again = Rescaled::new(scale);
            // SAFETY: `first` is the output's first element and `one` reaches exactly its
            // elements from there (`OutputElements`).
            unsafe {
                for_each_element(outputs.first(view, o), &outputs.one, |x: T| {
                    let x = x.to_f64();
                    if !(ignore && x.is_nan()) {
                        again.add(x)
                    }
                })
            };
            *p = again.partial();
        }
    }
    Ok((shape, count, State::Var(parts)))
}

/// min and max (and their nan-variants); integers only have the plain kernel (no NaN).
fn extremes<T: Element>(op: Op, view: &StridedView<'_, T>, over: Option<&[isize]>) -> Built {
    use NanHandling::{Ignore as Skip, Propagate as Keep};
    let info = op.info();
    let nan = if T::IS_FLOAT { info.nan } else { Keep };
    let (shape, count, parts) = match (info.max, nan) {
        (false, Keep) => run(MinMax::<T, Propagate, false>::new(), view, over)?,
        (true, Keep) => run(MinMax::<T, Propagate, true>::new(), view, over)?,
        (false, Skip) => run(MinMax::<T, Ignore, false>::new(), view, over)?,
        (true, Skip) => run(MinMax::<T, Ignore, true>::new(), view, over)?,
    };
    let flag = parts.iter().map(|p| p.flag).collect();
    let best = T::into_values(parts.into_iter().map(|p| p.best).collect());
    Ok((shape, count, State::Extreme { best, flag }))
}

/// count_nonzero, any and all: the number of nonzero elements. A whole-array `any`/`all`
/// stops early (see [`decide_early`]).
fn counts<T: Element>(op: Op, view: &StridedView<'_, T>, over: Option<&[isize]>) -> Built {
    let family = op.info().family;
    if over.is_none() && family != Family::CountNonzero && view.len() * T::ELEM.size() > PIECE {
        return Ok(decide_early(family, view));
    }
    let (shape, count, parts) = run(NonZero::<T>::new(), view, over)?;
    Ok((shape, count, State::Count(parts)))
}

/// Bytes of the first piece [`decide_early`] reads; each next piece is twice as large.
const PIECE: usize = 4 << 10;

/// Whole-array `any` / `all` that stop once the answer is known, as numpy's own do for bool:
/// the view is read in pieces of growing size along its outermost axis in memory, and the
/// reading stops at the first piece with a nonzero element (`any`) or a zero (`all`). The
/// state is then the count of the pieces read: a count that decides the answer exactly as
/// the full count would (`> 0` for any, `< n` for all), and keeps doing so when combined.
fn decide_early<T: Element>(family: Family, view: &StridedView<'_, T>) -> (Vec<usize>, u64, State) {
    let (shape, strides) = (view.shape(), view.strides());
    let outer = (0..view.ndim())
        .filter(|&k| shape[k] > 1)
        .max_by_key(|&k| strides[k].unsigned_abs())
        .expect("more than one element, so an axis longer than 1");
    let per_index = view.len() / shape[outer];
    let mut step = (PIECE / T::ELEM.size().max(1) / per_index).max(1);
    let (mut start, mut nonzero) = (0, 0u64);
    let kernel = NonZero::<T>::new();
    while start < shape[outer] {
        let end = (start + step).min(shape[outer]);
        let piece = view
            .sliced(outer, start, end, 1)
            .expect("a range of indices of the axis");
        nonzero += reduce_all(&kernel, &piece, simd_level());
        let read = (end * per_index) as u64;
        let decided = match family {
            Family::Any => nonzero > 0,
            _ => nonzero < read,
        };
        if decided {
            break;
        }
        start = end;
        step *= 2;
    }
    (Vec::new(), view.len() as u64, State::Count(vec![nonzero]))
}

/// ptp: the minimum and maximum in one reading (integers and floats; bool is refused).
fn ranges<T: Element>(view: &StridedView<'_, T>, over: Option<&[isize]>) -> Built {
    let (shape, count, parts) = run(Range::<T>::new(), view, over)?;
    let nan = parts.iter().map(|(l, h)| l.flag | h.flag).collect();
    let lo = T::into_values(parts.iter().map(|p| p.0.best).collect());
    let hi = T::into_values(parts.iter().map(|p| p.1.best).collect());
    Ok((shape, count, State::Range { lo, hi, nan }))
}

/// The axis of an argmin/argmax (`None`: all of them), or numpy's errors: several axes, or an
/// empty slice.
fn arg_axis<T: Element>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
) -> Result<Option<usize>, ReduceError> {
    let axis = match over {
        None => None,
        Some(axes) => match layout::resolve_axes(axes, view.ndim())?.as_slice() {
            [k] => Some(*k),
            _ => return Err(ReduceError::ArgAxes),
        },
    };
    let n = axis.map_or(view.len(), |k| view.shape()[k]);
    if n == 0 {
        let op = if op.info().max { "argmax" } else { "argmin" };
        return Err(ReduceError::EmptyArg { op });
    }
    Ok(axis)
}

/// The answers of argmin/argmax as a state; nanargmin/nanargmax of a slice without a
/// number is numpy's error.
fn arg_state<T: Element>(
    axis: Option<usize>,
    view: &StridedView<'_, T>,
    answers: Answers,
    need_number: bool,
) -> Built {
    if need_number && !answers.all_seen {
        return Err(ReduceError::AllNanSlice);
    }
    let count = axis.map_or(view.len(), |k| view.shape()[k]) as u64;
    Ok((answers.shape, count, State::Arg(answers.pos)))
}

/// argmin/argmax of integers (nan-variants are the same), or with `K == TRUTH` of bool bytes.
fn int_positions<T: Element, const K: u8>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
) -> Built {
    let axis = arg_axis(op, view, over)?;
    let level = simd_level();
    let found = match op.info().max {
        false => arg_reduce::<T, false, K>(view, axis, level),
        true => arg_reduce::<T, true, K>(view, axis, level),
    };
    arg_state(axis, view, found, false)
}

/// argmin/argmax and nanargmin/nanargmax of floats.
fn float_positions<T: FloatElement>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
) -> Built {
    let axis = arg_axis(op, view, over)?;
    let level = simd_level();
    let info = op.info();
    let ignore = info.nan == NanHandling::Ignore;
    let found = match (info.max, ignore) {
        (false, false) => arg_reduce::<T, false, PLAIN>(view, axis, level),
        (true, false) => arg_reduce::<T, true, PLAIN>(view, axis, level),
        (false, true) => arg_reduce::<T, false, NAN_WORST>(view, axis, level),
        (true, true) => arg_reduce::<T, true, NAN_WORST>(view, axis, level),
    };
    arg_state(axis, view, found, ignore)
}

/// Reduce float elements with `op`.
fn build_float<T: FloatElement>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
) -> Built {
    match op.info().family {
        Family::Sum | Family::Mean => float_sums(op, view, over),
        Family::Var => variances(op, view, over),
        Family::Extreme => extremes(op, view, over),
        Family::CountNonzero | Family::Any | Family::All => counts(op, view, over),
        Family::Range => ranges(view, over),
        Family::Arg => float_positions(op, view, over),
        Family::Prod => float_prods(op, view, over),
    }
}

/// Reduce integer elements with `op`.
fn build_int<T: IntElement>(op: Op, view: &StridedView<'_, T>, over: Option<&[isize]>) -> Built {
    match op.info().family {
        Family::Sum | Family::Mean => int_sums(op, view, over),
        Family::Var => variances(op, view, over),
        Family::Extreme => extremes(op, view, over),
        Family::CountNonzero | Family::Any | Family::All => counts(op, view, over),
        Family::Range => ranges(view, over),
        Family::Arg => int_positions::<T, PLAIN>(op, view, over),
        Family::Prod => int_prods(view, over),
    }
}

/// The partials of `op` over `over` (`None`: every axis) of the `elem`s at `ptr` with
/// element strides: the one place where every (type, reduction) pair is instantiated.
/// Broadcast axes are read once (see `broadcast.rs`).
///
/// # Safety
/// As [`StridedView::from_raw_parts`] for elements of type `elem`: for the duration of the
/// call every element `ptr + Σ i_k * strides[k] * size` (`0 <= i_k < shape[k]`) is a valid,
/// initialised, aligned `elem` that nobody mutates (for [`ElemType::Bool`], any byte), the
/// extent fits `isize`, and `shape.len() == strides.len()`.
pub(crate) unsafe fn partials_of_elements(
    elem: ElemType,
    op: Op,
    ptr: *const u8,
    shape: &[usize],
    strides: &[isize],
    over: Option<&[isize]>,
) -> Result<Partials, ReduceError> {
    // A whole-array argmin/argmax answers a flat index of the full shape, which a broadcast
    // axis cut to length 1 would change: the kernels read the stride-0 axes as they are.
    let flat_index = op.info().family == Family::Arg && over.is_none();
    if let Some(plan) = crate::broadcast::plan(shape, strides, over).filter(|_| !flat_index) {
        // SAFETY: the cut description reaches index 0 of each broadcast axis, which the full
        // one reaches too (the caller's contract covers it); it has no broadcast axis left,
        // so this recursion is one level deep.
        let cut = unsafe { partials_of_elements(elem, op, ptr, &plan.shape, strides, over)? };
        let mut full = plan.expand(cut);
        let count = full.count();
        if let State::Float(parts) = full.state_mut() {
            // A repeated partial's bound grew: settle against the full view (rarely needed).
            // SAFETY: the caller's contract, for elements of type `elem`.
            unsafe { settle_raw(elem, op, ptr, shape, strides, over, count, parts)? };
        }
        return Ok(full);
    }
    /// The view of the memory as `$t` (the caller's contract, for elements of that type).
    macro_rules! view {
        ($t:ty) => {
            // SAFETY: the caller's contract, for elements of type `$t`.
            unsafe { StridedView::<$t>::from_raw_parts(ptr.cast::<$t>(), shape, strides) }
        };
    }
    let (shape, count, state) = match elem {
        // Bool: sums and variances count nonzero bytes; min/max of the bytes as u8 are
        // nonzero exactly when numpy's logical and/or of them is true.
        ElemType::Bool if op.info().family == Family::Extreme => {
            let (shape, count, state) = extremes(op, &view!(u8), over)?;
            let State::Extreme {
                best: Values::U8(v),
                flag,
            } = state
            else {
                unreachable!("min/max of u8 is u8")
            };
            let best = Values::Bool(v.into_iter().map(|b| b != 0).collect());
            (shape, count, State::Extreme { best, flag })
        }
        // argmin/argmax of bool: the bytes as truth values.
        ElemType::Bool if op.info().family == Family::Arg => {
            int_positions::<u8, TRUTH>(op, &view!(u8), over)?
        }
        ElemType::Bool if op.info().family == Family::Range => {
            return Err(ReduceError::BoolSubtract);
        }
        // Counts read the bytes as u8: nonzero exactly when numpy's truth value is true.
        ElemType::Bool
            if matches!(
                op.info().family,
                Family::CountNonzero | Family::Any | Family::All
            ) =>
        {
            counts(op, &view!(u8), over)?
        }
        // (A separate arm, not `build_int`, so no min/max kernel is compiled for Bool8.)
        ElemType::Bool => match op.info().family {
            Family::Sum | Family::Mean => int_sums(op, &view!(Bool8), over)?,
            Family::Prod => int_prods(&view!(Bool8), over)?,
            _ => variances(op, &view!(Bool8), over)?,
        },
        ElemType::I8 => build_int(op, &view!(i8), over)?,
        ElemType::I16 => build_int(op, &view!(i16), over)?,
        ElemType::I32 => build_int(op, &view!(i32), over)?,
        ElemType::I64 => build_int(op, &view!(i64), over)?,
        ElemType::U8 => build_int(op, &view!(u8), over)?,
        ElemType::U16 => build_int(op, &view!(u16), over)?,
        ElemType::U32 => build_int(op, &view!(u32), over)?,
        ElemType::U64 => build_int(op, &view!(u64), over)?,
        ElemType::F32 => build_float(op, &view!(f32), over)?,
        ElemType::F64 => build_float(op, &view!(f64), over)?,
    };
    Ok(Partials::new_unchecked(op, elem, shape, count, state))
}

/// [`partials_of_elements`] on a typed view.
pub(crate) fn partials_typed<T: Element>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
) -> Result<Partials, ReduceError> {
    // SAFETY: a view's elements are valid, shared `T`s for its lifetime, which outlives this
    // call, and `T::ELEM` names `T` (a `bool` is a byte of 0 or 1).
    unsafe {
        partials_of_elements(
            T::ELEM,
            op,
            view.as_ptr().cast::<u8>(),
            view.shape(),
            view.strides(),
            over,
        )
    }
}

/// The reduction `op` of a typed view: its partials, finalised (short columns of float
/// sums finished in place, [`short_sums`]).
pub(crate) fn reduce_typed<T: Element>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
    ddof: f64,
) -> Result<Outcome, ReduceError> {
    // SAFETY: as in `partials_typed`.
    unsafe {
        reduce_of_elements(
            T::ELEM,
            op,
            view.as_ptr().cast::<u8>(),
            view.shape(),
            view.strides(),
            over,
            ddof,
        )
    }
}

/// The reduction `op` over `over` of the `elem`s at `ptr`: [`partials_of_elements`],
/// finalised, but for float sums and means of short columns, finished in place
/// ([`short_sums`]: the same values).
///
/// # Safety
/// As [`partials_of_elements`].
pub(crate) unsafe fn reduce_of_elements(
    elem: ElemType,
    op: Op,
    ptr: *const u8,
    shape: &[usize],
    strides: &[isize],
    over: Option<&[isize]>,
    ddof: f64,
) -> Result<Outcome, ReduceError> {
    // (Short columns are axis reductions: a whole-array call skips making their view.)
    let short = match elem {
        _ if over.is_none() => None,
        // SAFETY: our contract, for f64 elements.
        ElemType::F64 => short_sums(
            op,
            &unsafe { StridedView::<f64>::from_raw_parts(ptr.cast(), shape, strides) },
            over,
        ),
        // SAFETY: our contract, for f32 elements.
        ElemType::F32 => short_sums(
            op,
            &unsafe { StridedView::<f32>::from_raw_parts(ptr.cast(), shape, strides) },
            over,
        ),
        _ => None,
    };
    if let Some(done) = short {
        return done;
    }
    let sums = matches!(op.info().family, Family::Sum | Family::Mean);
    let broadcast = shape.iter().zip(strides).any(|(&n, &s)| s == 0 && n > 1);
    if over.is_none() && sums && !broadcast && shape.iter().product::<usize>() > 0 {
        match elem {
            ElemType::F64 => {
                // SAFETY: our contract, for f64 elements.
                let view =
                    unsafe { StridedView::<f64>::from_raw_parts(ptr.cast(), shape, strides) };
                return float_sum_of_all(op, &view);
            }
            ElemType::F32 => {
                // SAFETY: our contract, for f32 elements.
                let view =
                    unsafe { StridedView::<f32>::from_raw_parts(ptr.cast(), shape, strides) };
                return float_sum_of_all(op, &view);
            }
            _ => {}
        }
    }
    // SAFETY: our contract.
    unsafe { partials_of_elements(elem, op, ptr, shape, strides, over) }?.finalise(ddof)
}

/// A float sum or mean (or nan-variant) of every element of a non-empty `view` with no
/// broadcast axis: the value its partials finalise to ([`float_sums`], then `FloatOut` as
/// `Partials::finalise` takes it), without the type-erased partials between them, whose
/// vectors cost as much as summing a thousand elements (one Zen 4 thread: `sum` of 1e3 f64
/// about 0.8 us a call from Python, of which the kernel took a quarter).
fn float_sum_of_all<T: FloatElement>(
    op: Op,
    view: &StridedView<'_, T>,
) -> Result<Outcome, ReduceError> {
    let (shape, count, state) = float_sums(op, view, None)?;
    let State::Float(parts) = state else {
        unreachable!("float sums give float partials")
    };
    let kind = FloatOut::of(op, T::ELEM, count);
    let mut warning = None;
    let v = kind.value(parts[0], &mut |w| warning = warning.or(Some(w)));
    let values = if op.result_type(T::ELEM) == ElemType::F32 {
        Values::F32(vec![v as f32])
    } else {
        Values::F64(vec![v])
    };
    Ok(Outcome {
        shape,
        values,
        warning,
    })
}

/// Float sums and means (and their nan-variants) over short columns, finished in place
/// (`kernels/short_sum.rs`, `driver::short_plan`): `None` when the reduction is not one.
/// Each output is decided in its block, or settled as the other paths settle theirs, so
/// the values are those of the partials finalised: the exact sums, correctly rounded.
fn short_sums<T: FloatElement>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
) -> Option<Result<Outcome, ReduceError>> {
    let info = op.info();
    if !matches!(info.family, Family::Sum | Family::Mean) {
        return None;
    }
    let axes = match layout::resolve_axes(over?, view.ndim()) {
        Ok(axes) => axes,
        Err(e) => return Some(Err(e.into())),
    };
    let short = crate::kernels::short_reduction_of(op, T::ELEM);
    let rows = crate::kernels::short_sum::short_column_rows(T::ELEM, view.len());
    let plan = crate::driver::short_plan(view.shape(), view.strides(), &axes, short, rows)?;
    let count = plan.rows.len() as u64;
    let kind = FloatOut::of(op, T::ELEM, count);
    let base = SharedPtr(view.as_ptr());
    let level = simd_level();
    // SAFETY: `plan` is `short_plan` of the view's shape and strides, whose elements are
    // valid for its lifetime.
    let (mut values, mut todo) = unsafe {
        match info.nan {
            NanHandling::Propagate => short_columns::<T, Propagate>(base, &plan, kind, level),
            NanHandling::Ignore => short_columns::<T, Ignore>(base, &plan, kind, level),
        }
    };
    let mut warning = None;
    if !todo.is_empty() {
        if let Err(e) = settle_these(op, view, over, count, values.len(), &mut todo) {
            return Some(Err(e));
        }
        let mut warn = |w| warning = warning.or(Some(w));
        for (o, p) in todo {
            values[o] = T::from_f64(kind.value(p, &mut warn));
        }
    }
    Some(Ok(Outcome {
        shape: plan.shape,
        values: T::into_values(values),
        warning,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{available_simd_levels, with_num_threads, with_simd_level};

    /// Values for the short columns: each kind stresses one part of the path (see
    /// `short_columns_are_the_partials_finalised`).
    fn short_values(
        kind: usize,
        n: usize,
        width: usize,
        next: &mut impl FnMut() -> u64,
    ) -> Vec<f64> {
        let unit = |r: u64| (r >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
        (0..n)
            .map(|i| {
                let (r, u) = (next(), unit(next()));
                match kind {
                    // Exact f32 values whose sum lies just off an f32 tie, `1 + 2^-24 ± 2^-k`
                    // in a column's first rows: added plainly in f64 it lands on the tie.
                    7 => match i / width {
                        0 => 1.0,
                        1 => 2f64.powi(-24),
                        2 => [1.0, -1.0][(r % 2) as usize] * 2f64.powi(-30 - (r % 60) as i32),
                        _ => 0.0,
                    },
                    // Columns spanning 24 binades: summed plainly in f64, 128 of them lose
                    // their last bit (2^-47) at a sum of 126 + 2^-18 + 2^-47, whose f32
                    // rounding then falls on a tie and goes down (the exact sum goes up).
                    8 => match i / width {
                        0 => 2f64.powi(-24) * (1.0 + 2f64.powi(-23)),
                        1 => 2f64.powi(-24),
                        2 => 1.0 + 2f64.powi(-18) - 2f64.powi(-23),
                        _ => 1.0,
                    },
                    // Tiny first rows, then ordinary ones: the offset guessed from the first
                    // rows is too small (`short_sum`'s `offset_sums`), and the rows are added
                    // again.
                    9 => u * if i / width < 4 { 2f64.powi(-30) } else { 1e3 },
                    // Magnitudes over 44 binades: `offset_sums`'s certificate holds for some
                    // columns and not for others.
                    10 => u * 2f64.powi((r % 44) as i32 - 22),
                    // `1 + 2^-53 + tiny`, just above a tie, with `±2^-46` between: added from
                    // an offset, the tiny element is lost in `l` beside `2^-46` unless the
                    // certificate of `offset_sums` sends the column another way.
                    11 => match i / width {
                        0 => 1.0,
                        1 => 2f64.powi(-53),
                        2 => 2f64.powi(-46),
                        3 => 2f64.powi(-80 - (r % 40) as i32),
                        4 => -(2f64.powi(-46)),
                        _ => 0.0,
                    },
                    0 => u * 3.0,
                    // Halfway sums: few bits, so `h + l` is often a tie, decided exactly.
                    1 => ((r % 64) as f64 - 32.0) * 2f64.powi(50) + (r % 3) as f64 * 0.5,
                    // Magnitudes 2^-60 .. 2^60: TwoSum errors that need more than 53 bits.
                    2 => u * 2f64.powi((r % 121) as i32 - 60),
                    // Heavy cancellation, and a tiny element among ordinary ones.
                    3 => [1e16, 1.0, -1e16, u * 2f64.powi(-70)][i % 4],
                    // Zeros of both signs, subnormals.
                    4 => {
                        [0.0, -0.0, f64::from_bits(r % 5), -f64::from_bits(3), u][(r % 5) as usize]
                    }
                    // NaN and infinities among ordinary values.
                    5 => [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, u, u, u, u, u]
                        [(r % 8) as usize],
                    // Near the largest float: partial sums overflow, exact sums may not.
                    _ => [f64::MAX, -f64::MAX, f64::MAX / 2.0, u][(r % 4) as usize],
                }
            })
            .collect()
    }

    /// The short columns, finished in place (`short_sums`), give exactly the values and
    /// warnings of the partials finalised (the other paths, checked against exact sums
    /// elsewhere), for f64 and f32, every float sum and mean, every SIMD level, one thread and
    /// two: whole blocks and a last short one, several lines of outputs, outputs strided in the
    /// result (the reduced axis between two kept ones of an F-order array), and every kind of
    /// value in `short_values`. Each case is checked to take the short path.
    #[test]
    fn short_columns_are_the_partials_finalised() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        };
        fn bits(v: &Values) -> Vec<u64> {
            match v {
                Values::F64(v) => v
                    .iter()
                    .map(|x| if x.is_nan() { 1 } else { x.to_bits() })
                    .collect(),
                Values::F32(v) => v
                    .iter()
                    .map(|x| {
                        if x.is_nan() {
                            1
                        } else {
                            u64::from(x.to_bits())
                        }
                    })
                    .collect(),
                _ => panic!("float results"),
            }
        }
        fn check<T: FloatElement>(view: &StridedView<'_, T>, axes: &[isize], what: &str) {
            let resolved = layout::resolve_axes(axes, view.ndim()).unwrap();
            for op in [Op::Sum, Op::NanSum, Op::Mean, Op::NanMean] {
                let short = crate::kernels::short_reduction_of(op, T::ELEM);
                let most = crate::kernels::short_sum::short_column_rows(T::ELEM, view.len());
                assert!(
                    crate::driver::short_plan(view.shape(), view.strides(), &resolved, short, most)
                        .is_some(),
                    "{what}: not a short-columns reduction"
                );
                let fast = reduce_typed(op, view, Some(axes), 0.0).unwrap();
                let slow = partials_typed(op, view, Some(axes))
                    .unwrap()
                    .finalise(0.0)
                    .unwrap();
                assert_eq!(fast.shape, slow.shape, "{what} {op:?}");
                assert_eq!(bits(&fast.values), bits(&slow.values), "{what} {op:?}");
                assert_eq!(fast.warning, slow.warning, "{what} {op:?}");
            }
        }
        let levels = available_simd_levels();
        let mut ran = 0;
        for kind in 0..12 {
            for (rows, width) in [
                (1, 40),
                (2, 16),
                (3, 17),
                (4, 100),
                (5, 15),
                (16, 33),
                (31, 48),
                (32, 20),
                // f32 only past 64 rows (longer f64 columns go vertical).
                (33, 17),
                (64, 70),
                (100, 40),
                (128, 33),
                (200, 40),
                (256, 35),
            ] {
                let f32_only = rows > crate::kernels::short_sum::SHORT_COLUMN_ROWS;
                let data = short_values(kind, rows * width * 3, width, &mut next);
                let narrow: Vec<f32> = data.iter().map(|&x| x as f32).collect();
                for &level in &levels {
                    for threads in [1, 2] {
                        with_simd_level(level, || {
                            with_num_threads(threads, || {
                                let what =
                                    format!("{level:?} {threads}t kind {kind} ({rows}, {width})");
                                // C order over axis 0: one line of `width` outputs.
                                let v = StridedView::contiguous(
                                    &narrow[..rows * width],
                                    &[rows, width],
                                )
                                .unwrap();
                                check(&v, &[0], &what);
                                // F order (width, rows, 3) over axis 1: outputs 3 apart in the
                                // result.
                                let v =
                                    StridedView::contiguous(&narrow, &[3, rows, width]).unwrap();
                                check(&v.permuted(&[2, 1, 0]).unwrap(), &[1], &what);
                                ran += 1;
                                if f32_only {
                                    return;
                                }
                                let v =
                                    StridedView::contiguous(&data[..rows * width], &[rows, width])
                                        .unwrap();
                                check(&v, &[0], &what);
                                // (3, rows, width) over axis 1: three lines.
                                let v = StridedView::contiguous(&data, &[3, rows, width]).unwrap();
                                check(&v, &[1], &what);
                                let v = v.permuted(&[2, 1, 0]).unwrap();
                                check(&v, &[1], &what);
                            })
                        });
                    }
                }
            }
        }
        println!("short columns: {ran} cases at levels {levels:?}");
    }

    /// Tall columns summed on one thread, where the vertical path takes all the rows in one
    /// unit: every output's bound holds, checked exactly (the elements lie on the grid
    /// 2^-40, so its partial's `hi` and `lo` do too), and decides its rounding with no exact
    /// pass. Before the vertical f64 sums renormalised their `(hi, lo)` every few hundred
    /// rows (`kernels/sum.rs`, `lane_bound`), the bound grew as rows²: with it, column 4 was
    /// already undecided at the first level.
    #[test]
    fn tall_columns_bounds_hold_and_decide() {
        let (rows, cols) = (200_000, 48);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        // Near-normal: the sum of four uniform integers of 40 bits, centred, times 2^-40.
        let ints: Vec<i64> = (0..rows * cols)
            .map(|_| (0..4).map(|_| (next() >> 24) as i64 - (1 << 39)).sum())
            .collect();
        let scale = 2f64.powi(40);
        let data: Vec<f64> = ints.iter().map(|&s| s as f64 / scale).collect();
        let view = StridedView::contiguous(&data, &[rows, cols]).expect("a view");
        for level in available_simd_levels() {
            let parts = with_simd_level(level, || {
                with_num_threads(1, || {
                    run(FloatSum::<f64, Propagate>::new(), &view, Some(&[0]))
                        .expect("a reduction")
                        .2
                })
            });
            for (c, p) in parts.iter().enumerate() {
                let exact: i128 = (0..rows).map(|r| i128::from(ints[r * cols + c])).sum();
                let got = (p.hi * scale) as i128 + (p.lo * scale) as i128;
                let miss = (exact - got).abs() as f64 / scale;
                assert!(
                    miss <= p.err,
                    "{level:?} column {c}: off by {miss:e}, bound {:e}",
                    p.err
                );
                assert!(
                    p.rounded_f64().is_some(),
                    "{level:?} column {c}: undecided, bound {:e} on a sum of {}",
                    p.err,
                    exact as f64 / scale
                );
            }
        }
    }
}
