//! Partial results: what a reduction keeps per output before it becomes numpy's value.
//!
//! Every reduction runs in two steps: the kernels reduce the elements to one state per output
//! ([`Partials`]: compensated float sums, exact integer sums, `(n, mean, M2)`, the best value
//! and a NaN flag), and [`Partials::finalise`] turns the states into numpy's result (the
//! division of a mean, `M2 / (n - ddof)`, NaN and numpy's warnings, the result type).
//! [`crate::reduce`] is exactly these two steps.
//!
//! In between, the partials of disjoint pieces of the same reduction (chunks of a Dask array,
//! blocks a C caller reduces one at a time) combine with [`Partials::combine`], which is the
//! same arithmetic the kernels use to combine their own lanes and work units. They can be
//! taken apart ([`Partials::state`]) and rebuilt ([`Partials::from_parts`]) to travel
//! between processes.

use crate::dynamic::Outcome;
use crate::element::FloatElement;
use crate::kernels::exact::ExactSum;
use crate::kernels::minmax::MinMaxPartial;
use crate::kernels::prod::wrapping_pow;
pub use crate::kernels::prod::ProdPartial;
pub use crate::kernels::sum::FloatPartial;
use crate::kernels::var::Rescaled;
pub use crate::kernels::var::VarPartial;
use crate::ops::{Family, NanHandling, Op};
use crate::simd::{dispatch, simd_level};
use crate::{ElemType, ReduceError, Values, Warning};
use pulp::{Simd, WithSimd};
use std::fmt;
use std::mem::MaybeUninit;

/// The per-output states of a reduction, one per output in C order.
#[derive(Clone, Debug, PartialEq)]
pub enum State {
    /// `sum`/`mean` (and nan-variants) of `f32`/`f64`: compensated sums.
    Float(Vec<FloatPartial>),
    /// `sum`/`mean` of integers and bool: exact sums (wrapping only beyond 2^127); `sum` of
    /// 64-bit integers modulo 2^64 (numpy's result wraps; the sum itself when it did not).
    Int(Vec<i128>),
    /// `var`/`std` (and nan-variants).
    Var(Vec<VarPartial>),
    /// `min`/`max` (and nan-variants): the best value so far, in the input's type (`+inf` or
    /// the type's largest value for min when nothing was seen, the opposite for max; never
    /// NaN), and a flag: for `min`/`max` of floats "a NaN was seen", for `nanmin`/`nanmax`
    /// "a value other than NaN was seen"; always false for integers and bool.
    Extreme {
        /// Best value per output.
        best: Values,
        /// The NaN flag per output.
        flag: Vec<bool>,
    },
    /// `count_nonzero`, `any`, `all`: the number of elements that are not zero (exact).
    /// For a whole-array `any`/`all` that stopped early, the count of the elements read,
    /// which decides the answer as the full count would (`> 0`, `< n`).
    Count(Vec<u64>),
    /// `ptp`: the minimum and the maximum (as [`State::Extreme`]'s best values, in the
    /// input's type) and "a NaN was seen".
    Range {
        /// Minimum per output.
        lo: Values,
        /// Maximum per output.
        hi: Values,
        /// NaN seen, per output.
        nan: Vec<bool>,
    },
    /// argmin/argmax (and nan-variants): the answer, a position along the reduced axis (or
    /// the flat C-order index for a whole array). Positions are relative to the piece that
    /// was reduced, so these partials do not combine ([`PartialsError::Positional`]).
    Arg(Vec<u64>),
    /// `prod`/`nanprod` of `f32`/`f64`: the product with an unbounded exponent range.
    FloatProd(Vec<ProdPartial>),
    /// `prod` of integers and bool: the product modulo 2^64 (numpy's, in its 64-bit type).
    IntProd(Vec<u64>),
}

impl State {
    /// The number of outputs.
    pub fn len(&self) -> usize {
        match self {
            Self::Float(v) => v.len(),
            Self::Int(v) => v.len(),
            Self::Var(v) => v.len(),
            Self::Extreme { best, .. } => best.len(),
            Self::Count(v) => v.len(),
            Self::Range { lo, .. } => lo.len(),
            Self::Arg(v) => v.len(),
            Self::FloatProd(v) => v.len(),
            Self::IntProd(v) => v.len(),
        }
    }

    /// True if there are no outputs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The variant's name, for errors.
    fn kind(&self) -> &'static str {
        match self {
            Self::Float(_) => "Float",
            Self::Int(_) => "Int",
            Self::Var(_) => "Var",
            Self::Extreme { .. } => "Extreme",
            Self::Count(_) => "Count",
            Self::Range { .. } => "Range",
            Self::Arg(_) => "Arg",
            Self::FloatProd(_) => "FloatProd",
            Self::IntProd(_) => "IntProd",
        }
    }
}

/// The variant of [`State`] that `op` keeps for `elem` elements.
fn kind_of(op: Op, elem: ElemType) -> &'static str {
    match op.info().family {
        Family::Sum | Family::Mean if elem.is_float() => "Float",
        Family::Sum | Family::Mean => "Int",
        Family::Var => "Var",
        Family::Extreme => "Extreme",
        Family::CountNonzero | Family::Any | Family::All => "Count",
        Family::Range => "Range",
        Family::Arg => "Arg",
        Family::Prod if elem.is_float() => "FloatProd",
        Family::Prod => "IntProd",
    }
}

/// The partial result of a reduction `op` of `elem` elements: one [`State`] per output, the
/// shape of the outputs, and the number of elements reduced into each output.
///
/// ```
/// use stridewise::{partials, reduce, Op, StridedView};
///
/// let data: Vec<f64> = (0..12).map(f64::from).collect();
/// let all = StridedView::contiguous(&data, &[4, 3]).unwrap();
/// // The rows in two chunks: the column means of the whole from the chunks' partials.
/// let top = StridedView::contiguous(&data[..6], &[2, 3]).unwrap();
/// let bottom = StridedView::contiguous(&data[6..], &[2, 3]).unwrap();
/// let p = partials(Op::Mean, &top, Some(&[0])).unwrap();
/// let q = partials(Op::Mean, &bottom, Some(&[0])).unwrap();
/// let chunked = p.combine(&q).unwrap().finalise(0.0).unwrap();
/// assert_eq!(chunked, reduce(Op::Mean, &all, Some(&[0]), 0.0).unwrap());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Partials {
    op: Op,
    elem: ElemType,
    shape: Vec<usize>,
    count: u64,
    state: State,
}

/// Why partials cannot be built or combined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartialsError {
    /// The state is not the variant the reduction keeps for the element type (for
    /// [`State::Extreme`]: `best` not of the element type, or `flag` of another length).
    WrongState {
        /// The variant expected.
        expected: &'static str,
        /// The variant given.
        found: &'static str,
    },
    /// The number of states is not the number of outputs the shape has.
    WrongLength {
        /// Outputs of the shape.
        expected: usize,
        /// States given.
        found: usize,
    },
    /// [`Partials::combine`] of partials of another reduction, element type or shape.
    Mismatch,
    /// The element counts of combined partials overflow `u64`.
    CountOverflow,
    /// argmin/argmax partials hold positions within their own piece: they do not combine.
    Positional,
    /// [`ExactPartials::from_parts`]: words that no exact sum has, or an output that took
    /// more elements than the count.
    BadWords,
}

impl fmt::Display for PartialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongState { expected, found } => {
                write!(f, "partials: expected a {expected} state, found {found}")
            }
            Self::WrongLength { expected, found } => {
                write!(f, "partials: {found} states for {expected} outputs")
            }
            Self::Mismatch => f.write_str(
                "partials of different reductions, element types or shapes do not combine",
            ),
            Self::CountOverflow => f.write_str("partials: the element count overflows"),
            Self::Positional => f.write_str(
                "partials: argmin/argmax partials hold positions within their own piece and \
                 do not combine",
            ),
            Self::BadWords => f.write_str(
                "partials: words that no exact sum has, or more elements than the count",
            ),
        }
    }
}

impl std::error::Error for PartialsError {}

impl Partials {
    /// Partials as the kernels produce them (valid by construction).
    pub(crate) fn new_unchecked(
        op: Op,
        elem: ElemType,
        shape: Vec<usize>,
        count: u64,
        state: State,
    ) -> Self {
        let p = Self {
            op,
            elem,
            shape,
            count,
            state,
        };
        debug_assert_eq!(p.check(), Ok(()));
        p
    }

    /// Partials from their parts (as [`Partials::op`], [`Partials::elem`],
    /// [`Partials::shape`], [`Partials::count`] and [`Partials::state`] give them), checking
    /// that `state` is the variant `op` keeps for `elem` with one state per output of `shape`.
    pub fn from_parts(
        op: Op,
        elem: ElemType,
        shape: Vec<usize>,
        count: u64,
        state: State,
    ) -> Result<Self, PartialsError> {
        let p = Self {
            op,
            elem,
            shape,
            count,
            state,
        };
        p.check().map(|()| p)
    }

    fn check(&self) -> Result<(), PartialsError> {
        let expected = kind_of(self.op, self.elem);
        let found = self.state.kind();
        let wrong = PartialsError::WrongState { expected, found };
        if expected != found {
            return Err(wrong);
        }
        if let State::Extreme { best, flag } = &self.state {
            if best.elem() != self.elem || flag.len() != best.len() {
                return Err(wrong);
            }
        }
        if let State::Range { lo, hi, nan } = &self.state {
            let same = lo.elem() == self.elem && hi.elem() == self.elem;
            if !same || nan.len() != lo.len() || hi.len() != lo.len() {
                return Err(wrong);
            }
        }
        if let State::Var(v) = &self.state {
            if v.iter().any(|p| !Rescaled::SCALES.contains(&p.scale)) {
                return Err(wrong);
            }
        }
        let outputs = self.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if outputs != Some(self.state.len()) {
            return Err(PartialsError::WrongLength {
                expected: outputs.unwrap_or(usize::MAX),
                found: self.state.len(),
            });
        }
        Ok(())
    }

    /// The reduction.
    pub fn op(&self) -> Op {
        self.op
    }

    /// The element type of the input.
    pub fn elem(&self) -> ElemType {
        self.elem
    }

    /// The shape of the outputs (the kept axes; `[]` for a whole-array reduction).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of elements reduced into each output (NaN included).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The states, to be settled in place (`dynamic.rs`).
    pub(crate) fn state_mut(&mut self) -> &mut State {
        &mut self.state
    }

    /// The states, one per output in C order.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The states, by value.
    pub fn into_state(self) -> State {
        self.state
    }

    /// The partials of the union of the elements of `self` and `other`: two disjoint pieces
    /// of the same reduction, output by output (for example the same rows of two chunks of
    /// a column reduction). `self` comes first: combining in a fixed order gives a result
    /// that does not depend on scheduling. Integer sums and min/max are exact; float sums
    /// and variances combine as the kernels combine their own work units.
    pub fn combine(mut self, other: &Partials) -> Result<Partials, PartialsError> {
        if (self.op, self.elem, &self.shape) != (other.op, other.elem, &other.shape) {
            return Err(PartialsError::Mismatch);
        }
        if self.op.info().family == Family::Arg {
            return Err(PartialsError::Positional);
        }
        self.count = self
            .count
            .checked_add(other.count)
            .ok_or(PartialsError::CountOverflow)?;
        match (&mut self.state, &other.state) {
            (State::Float(a), State::Float(b)) => each(a, b, |x, y| x.combine(y)),
            (State::Int(a), State::Int(b)) => each(a, b, i128::wrapping_add),
            (State::Var(a), State::Var(b)) => each(a, b, VarPartial::merge),
            (State::Extreme { best: a, flag: f }, State::Extreme { best: b, flag: g }) => {
                combine_best(a, b, self.op.info().max);
                each(f, g, |x, y| x | y);
            }
            (State::Count(a), State::Count(b)) => each(a, b, |x, y| x + y),
            (State::FloatProd(a), State::FloatProd(b)) => each(a, b, ProdPartial::combine),
            (State::IntProd(a), State::IntProd(b)) => each(a, b, u64::wrapping_mul),
            (
                State::Range {
                    lo: a,
                    hi: b,
                    nan: f,
                },
                State::Range {
                    lo: c,
                    hi: d,
                    nan: g,
                },
            ) => {
                combine_best(a, c, false);
                combine_best(b, d, true);
                each(f, g, |x, y| x | y);
            }
            _ => unreachable!("same op and element type, so the same variant"),
        }
        Ok(self)
    }

    /// The partials of the same elements each taken `factor >= 1` times (a reduced broadcast
    /// axis of that length): integer sums multiplied (wrapping as numpy's sums wrap); float
    /// sums as the exact product of the leading part plus the rounded product of the error
    /// part (one rounding more than the exact product of the sum); `(n, mean, M2)` as
    /// `(factor n, mean, factor M2)`; min/max unchanged; products raised to the power
    /// `factor` (by squaring; integers modulo 2^64).
    pub(crate) fn repeated(mut self, factor: u64) -> Partials {
        debug_assert!(factor >= 1);
        if factor == 1 {
            return self;
        }
        self.count = self.count.saturating_mul(factor);
        let f = factor as f64;
        match &mut self.state {
            State::Float(v) => {
                for p in v {
                    *p = p.repeated(factor);
                }
            }
            State::Int(v) => {
                for s in v {
                    *s = s.wrapping_mul(factor as i128);
                }
            }
            State::Var(v) => {
                for p in v {
                    *p = p.repeated(f);
                }
            }
            // The first of equal elements is at index 0 of the repeated axis.
            State::Extreme { .. } | State::Range { .. } | State::Arg(_) => {}
            State::Count(v) => {
                for c in v {
                    *c = c.saturating_mul(factor);
                }
            }
            State::FloatProd(v) => {
                for p in v {
                    *p = p.repeated(factor);
                }
            }
            State::IntProd(v) => {
                for p in v {
                    *p = wrapping_pow(*p, factor);
                }
            }
        }
        self
    }

    /// The partials with outputs copied along the axes where `self.shape()` has length 1
    /// and `shape` (of the same rank) more (kept broadcast axes).
    pub(crate) fn broadcast_to(mut self, shape: &[usize]) -> Partials {
        if self.shape == shape {
            return self;
        }
        use crate::broadcast::{gather as pick, sources};
        let idx = sources(&self.shape, shape);
        self.state = match self.state {
            State::Float(v) => State::Float(pick(&v, &idx)),
            State::Int(v) => State::Int(pick(&v, &idx)),
            State::Var(v) => State::Var(pick(&v, &idx)),
            State::Extreme { best, flag } => State::Extreme {
                best: best.gather(&idx),
                flag: pick(&flag, &idx),
            },
            State::Count(v) => State::Count(pick(&v, &idx)),
            State::Range { lo, hi, nan } => State::Range {
                lo: lo.gather(&idx),
                hi: hi.gather(&idx),
                nan: pick(&nan, &idx),
            },
            State::Arg(v) => State::Arg(pick(&v, &idx)),
            State::FloatProd(v) => State::FloatProd(pick(&v, &idx)),
            State::IntProd(v) => State::IntProd(pick(&v, &idx)),
        };
        self.shape = shape.to_vec();
        debug_assert_eq!(self.check(), Ok(()));
        self
    }

    /// numpy's result from the states: sums in numpy's sum type; means as the sum over the
    /// count (the non-NaN count for nanmean); `var`/`std` as `M2 / max(n - ddof, 0)` (its
    /// square root for std; NaN for nanvar/nanstd when `n <= ddof`); min/max the best value,
    /// NaN by the flag. Warnings as numpy's RuntimeWarnings. Fails only for min/max of
    /// partials of no elements ([`ReduceError::EmptyMinMax`]).
    pub fn finalise(self, ddof: f64) -> Result<Outcome, ReduceError> {
        let info = self.op.info();
        let result = self.op.result_type(self.elem);
        // The nan-functions differ from the plain ones only where NaN exists.
        let ignore = info.nan == NanHandling::Ignore && self.elem.is_float();
        let count = self.count;
        let mut warning = None;
        let mut warn = |w| warning = warning.or(Some(w));
        let values = match self.state {
            // (The result type matched once, outside the loops: one loop per output type, a
            // few instructions an output on the common path, exact partials.)
            // A mean of no elements: NaN with numpy's warning, even where there is no output.
            State::Float(p) if !ignore && info.family == Family::Mean && count == 0 => {
                warn(Warning::MeanOfEmptySlice);
                floats(result, p.iter().map(|_| f64::NAN))
            }
            // (The kind and the result type matched once, outside the loops: one loop per
            // output type, a few instructions an output on the common path, exact partials.)
            State::Float(p) => {
                let kind = FloatOut::of(self.op, self.elem, count);
                match result {
                    ElemType::F32 => Values::F32(kind.values(&p, &mut warn)),
                    _ => Values::F64(kind.values(&p, &mut warn)),
                }
            }
            // Truncation to 64 bits is numpy's modular wrap-around.
            State::Int(s) if info.family == Family::Sum && result == ElemType::U64 => {
                Values::U64(s.iter().map(|&s| s as u64).collect())
            }
            State::Int(s) if info.family == Family::Sum => {
                Values::I64(s.iter().map(|&s| s as i64).collect())
            }
            State::Int(s) => floats(
                result,
                s.iter().map(|&s| mean(int_to_f64(s), count, &mut warn)),
            ),
            State::Var(p) => {
                // 1 / dof, divided again only where the count changes (nan-functions).
                let mut recip = (f64::NAN, f64::NAN);
                floats(
                    result,
                    p.iter()
                        .map(|&p| var_of(p, ddof, info.sqrt, ignore, &mut recip, &mut warn)),
                )
            }
            State::Extreme { best, flag } => {
                if count == 0 {
                    let op = if info.max { "maximum" } else { "minimum" };
                    return Err(ReduceError::EmptyMinMax { op });
                }
                match best {
                    Values::F32(v) => Values::F32(nan_by_flag(v, &flag, f32::NAN, ignore, warn)),
                    Values::F64(v) => Values::F64(nan_by_flag(v, &flag, f64::NAN, ignore, warn)),
                    exact => exact,
                }
            }
            State::Count(c) => match info.family {
                Family::Any => Values::Bool(c.iter().map(|&c| c > 0).collect()),
                Family::All => Values::Bool(c.iter().map(|&c| c == count).collect()),
                _ => Values::I64(c.iter().map(|&c| c as i64).collect()),
            },
            State::Range { lo, hi, nan } => {
                if count == 0 {
                    return Err(ReduceError::EmptyMinMax { op: "maximum" });
                }
                range_values(lo, hi, &nan)
            }
            State::Arg(v) => Values::I64(v.into_iter().map(|i| i as i64).collect()),
            State::FloatProd(p) => floats(result, p.iter().map(|p| p.value())),
            // The same bits: numpy's int64 product is the product modulo 2^64.
            State::IntProd(p) if result == ElemType::U64 => Values::U64(p),
            State::IntProd(p) => Values::I64(p.into_iter().map(|x| x as i64).collect()),
        };
        Ok(Outcome {
            shape: self.shape,
            values,
            warning,
        })
    }
}

/// `hi - lo` per output in the values' type: integers wrap (numpy's subtraction in the
/// input type), floats are one rounding of the exact difference (numpy's too), NaN where a
/// NaN was seen. bool has no subtraction (refused before the kernels run).
fn range_values(lo: Values, hi: Values, nan: &[bool]) -> Values {
    macro_rules! ints {
        ($($v:ident),*) => {
            match (lo, hi) {
                $((Values::$v(l), Values::$v(h)) => {
                    Values::$v(h.iter().zip(&l).map(|(h, l)| h.wrapping_sub(*l)).collect())
                })*
                (Values::F32(l), Values::F32(h)) => Values::F32(
                    h.iter().zip(&l).zip(nan).map(|((h, l), &n)| if n { f32::NAN } else { h - l }).collect(),
                ),
                (Values::F64(l), Values::F64(h)) => Values::F64(
                    h.iter().zip(&l).zip(nan).map(|((h, l), &n)| if n { f64::NAN } else { h - l }).collect(),
                ),
                _ => unreachable!("ptp of bool is refused; lo and hi have the input's type"),
            }
        };
    }
    ints!(I8, I16, I32, I64, U8, U16, U32, U64)
}

/// `a[i] = f(a[i], b[i])`.
fn each<T: Copy>(a: &mut [T], b: &[T], f: impl Fn(T, T) -> T) {
    for (x, &y) in a.iter_mut().zip(b) {
        *x = f(*x, y);
    }
}

/// Exact partials of the float sums and means (`sum`, `nansum`, `mean`, `nanmean` of `f32`
/// and `f64`): each output's sum kept exactly ([`crate::kernels::exact`]'s fixed-point
/// digits), with the number of elements it took. Unlike [`Partials`], whose compensated float
/// sums round a little differently for each way of cutting the elements, these combine
/// exactly, so that the pieces' combination is the exact sum of all of them, however they
/// were cut; [`ExactPartials::into_partials`] then gives partials that finalise to the
/// correctly rounded result, the bits [`crate::reduce`] gives for the whole array at once.
/// Made by [`crate::RawArray::exact_partials`] (each output summed exactly: slower than
/// [`crate::RawArray::partials`], which sums exactly only the outputs whose rounding its
/// bound leaves undecided). They travel as words ([`ExactPartials::words`], a record per
/// output) and counts.
#[derive(Clone, Debug)]
pub struct ExactPartials {
    op: Op,
    elem: ElemType,
    shape: Vec<usize>,
    count: u64,
    /// Each output's exact sum as its record ([`ExactSum::push_record`]), in C order (a few
    /// words each: whole sums are 560 bytes, which in fresh pages cost more than the sums).
    records: Vec<i64>,
    n: Vec<u64>,
}

impl ExactPartials {
    /// Exact partials as the kernels produce them (valid by construction).
    pub(crate) fn new_unchecked(
        op: Op,
        elem: ElemType,
        shape: Vec<usize>,
        count: u64,
        records: Vec<i64>,
        n: Vec<u64>,
    ) -> Self {
        debug_assert!(exact_kind(op, elem));
        Self {
            op,
            elem,
            shape,
            count,
            records,
            n,
        }
    }

    /// Exact partials from their parts, as [`ExactPartials::op`], [`ExactPartials::elem`],
    /// [`ExactPartials::shape`], [`ExactPartials::count`], [`ExactPartials::words`] and
    /// [`ExactPartials::counted`] give them: checks that `op` is a float sum or mean of a
    /// float `elem`, one count per output of `shape`, none above `count`, and a record per
    /// output in `words` that `words` can have given, nothing more.
    pub fn from_parts(
        op: Op,
        elem: ElemType,
        shape: Vec<usize>,
        count: u64,
        words: &[i64],
        counted: Vec<u64>,
    ) -> Result<Self, PartialsError> {
        if !exact_kind(op, elem) {
            return Err(PartialsError::WrongState {
                expected: kind_of(op, elem),
                found: "Exact",
            });
        }
        let outputs = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        let found = counted.len();
        if outputs != Some(found) {
            return Err(PartialsError::WrongLength {
                expected: outputs.unwrap_or(usize::MAX),
                found,
            });
        }
        if counted.iter().any(|&n| n > count) {
            return Err(PartialsError::BadWords);
        }
        let mut rest = words;
        for _ in 0..found {
            let took = ExactSum::record_words(rest).ok_or(PartialsError::BadWords)?;
            rest = &rest[took..];
        }
        if !rest.is_empty() {
            return Err(PartialsError::BadWords);
        }
        Ok(Self {
            op,
            elem,
            shape,
            count,
            records: words.to_vec(),
            n: counted,
        })
    }

    /// The reduction.
    pub fn op(&self) -> Op {
        self.op
    }

    /// The element type of the input.
    pub fn elem(&self) -> ElemType {
        self.elem
    }

    /// The shape of the outputs (the kept axes; `[]` for a whole-array reduction).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of elements reduced into each output (NaN included).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The elements each output's sum took (its count less the NaN skipped by the
    /// nan-functions).
    pub fn counted(&self) -> &[u64] {
        &self.n
    }

    /// The exact sums, a record of words per output in C order: a header word (the lowest
    /// nonzero digit's place, the digits' number, the sign, the specials' flags), then the
    /// digits of the magnitude, two 32-bit digits to a word (see
    /// [`ExactPartials::from_parts`]). Three words an output for common data.
    pub fn words(&self) -> &[i64] {
        &self.records
    }

    /// The exact partials of the union of the elements of `self` and `other` (two disjoint
    /// pieces of the same reduction, output by output). Exact, so in any order.
    pub fn combine(self, other: &ExactPartials) -> Result<ExactPartials, PartialsError> {
        ExactPartials::combine_all(vec![self, other.clone()])
    }

    /// The exact partials of the union of the elements of all `pieces` (disjoint pieces of
    /// the same reduction, at least one), each output's records merged at once. Exact, so in
    /// any order.
    pub fn combine_all(pieces: Vec<ExactPartials>) -> Result<ExactPartials, PartialsError> {
        let mut pieces = pieces.into_iter();
        let Some(mut all) = pieces.next() else {
            return Err(PartialsError::Mismatch);
        };
        let rest: Vec<ExactPartials> = pieces.collect();
        for p in &rest {
            if (all.op, all.elem, &all.shape) != (p.op, p.elem, &p.shape) {
                return Err(PartialsError::Mismatch);
            }
            all.count = all
                .count
                .checked_add(p.count)
                .ok_or(PartialsError::CountOverflow)?;
            // (Each output's count is at most `count`, which did not overflow.)
            each(&mut all.n, &p.n, |x, y| x + y);
        }
        if rest.is_empty() {
            return Ok(all);
        }
        // (Every record is valid: made by the kernels or checked by `from_parts`.)
        let mut at: Vec<&[i64]> = std::iter::once(&all.records[..])
            .chain(rest.iter().map(|p| &p.records[..]))
            .collect();
        let mut records = Vec::with_capacity(all.records.len());
        for _ in 0..all.n.len() {
            ExactSum::merge_records(&mut at, &mut records).ok_or(PartialsError::BadWords)?;
        }
        all.records = records;
        Ok(all)
    }

    /// [`Partials`] that finalise to the correctly rounded results: each output's exact
    /// sum as the [`FloatPartial`] it decides (`ExactSum::partial`, `err` 0), as the
    /// kernels' own exact pass leaves it.
    pub fn into_partials(self) -> Partials {
        let ignore = self.op.info().nan == NanHandling::Ignore;
        let mut rest = &self.records[..];
        let parts = self
            .n
            .iter()
            .map(|&n| {
                let ((hi, lo), took) =
                    ExactSum::record_partial(rest).expect("records are valid by construction");
                rest = &rest[took..];
                FloatPartial {
                    hi,
                    lo,
                    n: if ignore { n } else { 0 },
                    err: 0.0,
                }
            })
            .collect();
        Partials::new_unchecked(
            self.op,
            self.elem,
            self.shape,
            self.count,
            State::Float(parts),
        )
    }
}

/// Whether `op` over `elem` has [`ExactPartials`]: the float sums and means.
fn exact_kind(op: Op, elem: ElemType) -> bool {
    matches!(op.info().family, Family::Sum | Family::Mean) && elem.is_float()
}

/// The better of each pair of values, `a`'s on a tie, as the min/max kernels combine.
fn combine_best(a: &mut Values, b: &Values, max: bool) {
    fn pick<T: PartialOrd + Copy>(a: &mut [T], b: &[T], max: bool) {
        each(a, b, |x, y| {
            let (x, y) = (
                MinMaxPartial {
                    best: x,
                    flag: false,
                },
                MinMaxPartial {
                    best: y,
                    flag: false,
                },
            );
            if max {
                x.combine::<true>(y).best
            } else {
                x.combine::<false>(y).best
            }
        });
    }
    match (a, b) {
        (Values::Bool(a), Values::Bool(b)) => pick(a, b, max),
        (Values::I8(a), Values::I8(b)) => pick(a, b, max),
        (Values::I16(a), Values::I16(b)) => pick(a, b, max),
        (Values::I32(a), Values::I32(b)) => pick(a, b, max),
        (Values::I64(a), Values::I64(b)) => pick(a, b, max),
        (Values::U8(a), Values::U8(b)) => pick(a, b, max),
        (Values::U16(a), Values::U16(b)) => pick(a, b, max),
        (Values::U32(a), Values::U32(b)) => pick(a, b, max),
        (Values::U64(a), Values::U64(b)) => pick(a, b, max),
        (Values::F32(a), Values::F32(b)) => pick(a, b, max),
        (Values::F64(a), Values::F64(b)) => pick(a, b, max),
        _ => unreachable!("the same element type"),
    }
}

/// What a float sum or mean's output is made of (see [`FloatOut::value`]): one per
/// reduction, so that [`Partials::finalise`] and the short columns' finish in place
/// (`dynamic::short_sums`) make every output the same way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum FloatOut {
    /// sum, nansum: the sum rounded to the result type (`f32`: an f32 result).
    Sum { f32: bool },
    /// mean of `n > 0` elements an output.
    Mean { f32: bool, n: f64 },
    /// nanmean: over each output's own count (NaN, with numpy's warning, for none).
    NanMean { f32: bool },
}

impl FloatOut {
    /// The kind of `op` (a float sum or mean) of `elem`s, `count` elements an output
    /// (`count > 0` for a plain mean: a mean of nothing is NaN, see `finalise`).
    pub(crate) fn of(op: Op, elem: ElemType, count: u64) -> Self {
        let info = op.info();
        let f32 = op.result_type(elem) == ElemType::F32;
        match (info.family, info.nan) {
            (Family::Sum, _) => Self::Sum { f32 },
            (_, NanHandling::Ignore) => Self::NanMean { f32 },
            _ => Self::Mean {
                f32,
                n: count as f64,
            },
        }
    }

    /// The output of partial `p`, settled (`dynamic::settle`), in f64 (an f32 result is
    /// exact in it). Undecided partials (never, once settled) fall back to `hi + lo`.
    #[inline(always)]
    pub(crate) fn value(self, p: FloatPartial, warn: &mut impl FnMut(Warning)) -> f64 {
        let result = if self.f32() {
            ElemType::F32
        } else {
            ElemType::F64
        };
        match self {
            Self::Sum { .. } => decided_float(result, p, None).unwrap_or_else(|| p.value()),
            Self::Mean { n, .. } => {
                decided_float(result, p, Some(n)).unwrap_or_else(|| p.value() / n)
            }
            Self::NanMean { .. } if p.n == 0 => mean(0.0, 0, warn), // NaN, with numpy's warning
            Self::NanMean { .. } => {
                let n = p.n as f64;
                decided_float(result, p, Some(n)).unwrap_or_else(|| p.value() / n)
            }
        }
    }

    /// [`Self::value`] in its common cases, without a branch, so that a loop over the outputs
    /// compiles to vector code: the value, and whether it is `value`'s (where not, ask
    /// `value`, which also gives the warnings). (A 316x316 f64 axis-0 mean spent a tenth of
    /// its time deciding each output, twice, in scalar code with a branch per case.)
    #[inline(always)]
    pub(crate) fn quick(self, p: FloatPartial) -> (f64, bool) {
        match self {
            Self::Sum { f32 } => quick_of::<{ QUICK_SUM }>(f32, 0.0, p),
            Self::Mean { f32, n } => quick_of::<{ QUICK_MEAN }>(f32, n, p),
            Self::NanMean { f32 } => quick_of::<{ QUICK_NANMEAN }>(f32, 0.0, p),
        }
    }

    /// The outputs of `parts` that [`Self::quick`] does not decide, in order (empty: it
    /// decides them all): one pass at the machine's SIMD level, a branch for eight outputs.
    /// (`settle` used to ask whether all were decided, then, where one was not, `quick` again
    /// for every output, one call each: 8% of a (365, 180, 360) f32 axis-0 sum, whose 64800
    /// outputs leave a few undecided.)
    pub(crate) fn misses(self, parts: &[FloatPartial]) -> Vec<usize> {
        let mut misses = Vec::new();
        dispatch(
            simd_level(),
            Quick::<false, f64> {
                kind: self,
                parts,
                out: &mut [],
                misses: &mut misses,
            },
        );
        misses
    }

    /// [`Self::value`] of every partial of `parts`, as `O` (the result type): [`Self::quick`]
    /// in one pass at the machine's SIMD level, then `value` for the outputs it left. (A
    /// first pass for f32 means of exact partials, one division an output where this loop
    /// has three, made a (36, 18, 360) f32 axis-0 mean 8% slower: many of its partials are
    /// not exact. Written into the result's own vector, not a zeroed f64 one converted after:
    /// fresh pages per call, a twentieth of a (33, 4096) f32 axis-0 mean.)
    pub(crate) fn values<O: FloatElement>(
        self,
        parts: &[FloatPartial],
        warn: &mut impl FnMut(Warning),
    ) -> Vec<O> {
        let mut v: Vec<O> = Vec::with_capacity(parts.len());
        let all = dispatch(
            simd_level(),
            Quick::<true, O> {
                kind: self,
                parts,
                out: &mut v.spare_capacity_mut()[..parts.len()],
                misses: &mut Vec::new(),
            },
        );
        // SAFETY: `Quick` with `STORE` wrote every one of the `parts.len()` slots (its
        // contract), within the capacity; `O` is `Copy`.
        unsafe { v.set_len(parts.len()) };
        if !all {
            for (x, &p) in v.iter_mut().zip(parts) {
                if !self.quick(p).1 {
                    *x = O::from_f64(self.value(p, warn));
                }
            }
        }
        v
    }

    /// Whether the result is `f32`.
    pub(crate) fn f32(self) -> bool {
        match self {
            Self::Sum { f32 } | Self::Mean { f32, .. } | Self::NanMean { f32 } => f32,
        }
    }
}

/// The kinds of [`FloatOut`] as constants, so that [`quick_of`]'s match on the kind is
/// resolved at compile time inside the loops.
const QUICK_SUM: u8 = 0;
const QUICK_MEAN: u8 = 1;
const QUICK_NANMEAN: u8 = 2;

/// [`FloatOut::quick`] of kind `K` (`n`: a plain mean's count).
#[inline(always)]
fn quick_of<const K: u8>(f32: bool, n: f64, p: FloatPartial) -> (f64, bool) {
    let (n, counted) = match K {
        QUICK_SUM => (None, true),
        QUICK_MEAN => (Some(n), true),
        _ => (Some(p.n as f64), p.n > 0),
    };
    let (v, ok) = if f32 {
        p.rounded_f32_quick(n)
    } else {
        let (r, ok) = p.rounded_f64_quick();
        (n.map_or(r, |n| r / n), ok)
    };
    (v, ok & counted)
}

/// [`FloatOut::quick`] of every partial of `parts`, at a SIMD level: each value into `out`
/// (`STORE`; as long as `parts`, every slot written) or the undecided outputs' indices into
/// `misses` (not `STORE`), and whether every partial was decided.
struct Quick<'a, const STORE: bool, O> {
    kind: FloatOut,
    parts: &'a [FloatPartial],
    out: &'a mut [MaybeUninit<O>],
    misses: &'a mut Vec<usize>,
}

impl<const STORE: bool, O: FloatElement> WithSimd for Quick<'_, STORE, O> {
    type Output = bool;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> bool {
        // (The kind and the result type matched here, once: one loop for each.)
        let (parts, out, m) = (self.parts, self.out, self.misses);
        match self.kind {
            FloatOut::Sum { f32: false } => {
                quick_all::<QUICK_SUM, false, STORE, O>(parts, 0.0, out, m)
            }
            FloatOut::Sum { f32: true } => {
                quick_all::<QUICK_SUM, true, STORE, O>(parts, 0.0, out, m)
            }
            FloatOut::Mean { f32: false, n } => {
                quick_all::<QUICK_MEAN, false, STORE, O>(parts, n, out, m)
            }
            FloatOut::Mean { f32: true, n } => {
                quick_all::<QUICK_MEAN, true, STORE, O>(parts, n, out, m)
            }
            FloatOut::NanMean { f32: false } => {
                quick_all::<QUICK_NANMEAN, false, STORE, O>(parts, 0.0, out, m)
            }
            FloatOut::NanMean { f32: true } => {
                quick_all::<QUICK_NANMEAN, true, STORE, O>(parts, 0.0, out, m)
            }
        }
    }
}

/// The loop of [`Quick`] for one kind and result type.
#[inline(always)]
fn quick_all<const K: u8, const F32: bool, const STORE: bool, O: FloatElement>(
    parts: &[FloatPartial],
    n: f64,
    out: &mut [MaybeUninit<O>],
    misses: &mut Vec<usize>,
) -> bool {
    let mut all = true;
    if STORE {
        assert_eq!(out.len(), parts.len());
        for (x, &p) in out.iter_mut().zip(parts) {
            let (v, ok) = quick_of::<K>(F32, n, p);
            x.write(O::from_f64(v));
            all &= ok;
        }
    } else {
        // Eight outputs' verdicts as the bits of a byte, without a branch; the indices of
        // the rare undecided ones after.
        const CHUNK: usize = 8;
        let mut chunks = parts.chunks_exact(CHUNK);
        let mut base = 0;
        for c in &mut chunks {
            let mut missed = 0u8;
            for (k, &p) in c.iter().enumerate() {
                missed |= u8::from(!quick_of::<K>(F32, n, p).1) << k;
            }
            if missed != 0 {
                misses.extend(
                    (0..CHUNK)
                        .filter(|k| missed >> k & 1 != 0)
                        .map(|k| base + k),
                );
            }
            base += CHUNK;
        }
        for (k, &p) in chunks.remainder().iter().enumerate() {
            if !quick_of::<K>(F32, n, p).1 {
                misses.push(base + k);
            }
        }
        all = misses.is_empty();
    }
    all
}

/// The correctly rounded result of a float sum or mean from its partial: the exact sum `S`
/// rounded to `result` (`divisor: None`), or the mean `RN(RN64(S) / n)` (`Some(n)`, `n > 0`),
/// when the partial's bound decides it (see [`FloatPartial`]); `None` when it does not, and
/// the elements must be summed again exactly (`dynamic.rs` does; partials combined outside
/// the crate's own reductions then fall back to `hi + lo` rounded, within an ulp).
#[inline(always)]
pub(crate) fn decided_float(
    result: ElemType,
    p: FloatPartial,
    divisor: Option<f64>,
) -> Option<f64> {
    match (result, divisor) {
        (ElemType::F32, None) => p.rounded_f32().map(f64::from),
        (ElemType::F32, Some(n)) => p.mean_f32(n).map(f64::from),
        (_, None) => p.rounded_f64(),
        (_, Some(n)) => p.mean_f64(n),
    }
}

/// f64 results in the float result type (`f32` for `f32` input, else `f64`).
fn floats(result: ElemType, v: impl Iterator<Item = f64>) -> Values {
    match result {
        ElemType::F32 => Values::F32(v.map(|x| x as f32).collect()),
        _ => Values::F64(v.collect()),
    }
}

/// `s` rounded to f64: through `i64` when it fits (one instruction, the same rounding),
/// else `i128`'s conversion (a library call).
fn int_to_f64(s: i128) -> f64 {
    match i64::try_from(s) {
        Ok(v) => v as f64,
        Err(_) => s as f64,
    }
}

/// `sum / n`, or NaN with numpy's "Mean of empty slice" when `n == 0`.
fn mean(sum: f64, n: u64, warn: &mut impl FnMut(Warning)) -> f64 {
    if n == 0 {
        warn(Warning::MeanOfEmptySlice);
        return f64::NAN;
    }
    sum / n as f64
}

/// numpy's `M2 / max(n - ddof, 0)` (so inf or NaN when `n <= ddof`), with its warning when
/// `n - ddof <= 0`; numpy's nanvar/nanstd make every such result NaN (`nan_if_no_dof`).
/// `recip` caches `(dof, 1 / max(dof, 0))` from the previous output.
#[inline(always)]
fn var_of(
    p: VarPartial,
    ddof: f64,
    sqrt: bool,
    nan_if_no_dof: bool,
    recip: &mut (f64, f64),
    warn: &mut impl FnMut(Warning),
) -> f64 {
    let dof = p.n - ddof;
    if dof <= 0.0 {
        warn(Warning::DegreesOfFreedom);
        if nan_if_no_dof {
            return f64::NAN;
        }
    }
    if recip.0 != dof {
        *recip = (dof, 1.0 / dof.max(0.0));
    }
    p.variance_by(dof, recip.1, sqrt)
}

/// min/max of floats: under the plain functions NaN where a NaN was seen; under the
/// nan-functions NaN with "All-NaN slice encountered" where nothing else was.
fn nan_by_flag<T: Copy>(
    mut v: Vec<T>,
    flag: &[bool],
    nan: T,
    ignore: bool,
    mut warn: impl FnMut(Warning),
) -> Vec<T> {
    for (x, &f) in v.iter_mut().zip(flag) {
        if ignore && !f {
            warn(Warning::AllNanSlice);
            *x = nan;
        } else if !ignore && f {
            *x = nan;
        }
    }
    v
}

// Partials from kernels are tested in tests/suite/partials.rs; these build states by hand,
// which compiles no kernel into this crate's unit tests.
#[cfg(test)]
mod tests {
    use super::*;

    /// Partials that stress `FloatOut::quick`'s cases: sums near and exactly halfway between
    /// two f64 (or f32), powers of two, zeros of both signs, subnormals, values near
    /// overflow, infinities and NaN, with bounds from none to huge; `seed` picks them.
    fn stress_partials(seed: u64, count: usize) -> Vec<FloatPartial> {
        let mut state = seed;
        let mut next = move || {
            // splitmix64
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let his = [
            0.0,
            -0.0,
            1.0,
            -2.0,
            0.75,
            1.0 + f64::EPSILON,
            3.0 * 2f64.powi(-1000),
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            -f64::MAX,
            2f64.powi(1023),
            f64::INFINITY,
            f64::NAN,
            16777216.0, // 2^24: an f32 power of two
            16777217.0, // halfway between two f32
            1.5 * 2f64.powi(-968),
            2f64.powi(-968),
        ];
        (0..count)
            .map(|_| {
                let r = next();
                let hi = if r % 3 == 0 {
                    his[(r >> 8) as usize % his.len()]
                } else {
                    // A random f64 over a wide range of exponents, either sign.
                    let m = 1.0 + (next() >> 11) as f64 / (1u64 << 53) as f64;
                    let e = ((next() >> 20) % 200) as i32 - 100;
                    let v = m * 2f64.powi(e);
                    if r & 4 == 0 {
                        v
                    } else {
                        -v
                    }
                };
                let u = crate::kernels::sum::ulp(hi);
                let lo = match (r >> 3) % 7 {
                    0 => 0.0,
                    1 => u / 2.0,
                    2 => -u / 2.0,
                    3 => u / 2.0 * (1.0 - f64::EPSILON),
                    4 => u * ((next() >> 11) as f64 / (1u64 << 53) as f64 - 0.5),
                    5 => 2f64.powi(-30) * hi, // an f32 tie's neighbourhood
                    _ => -0.0,
                };
                let err = match (r >> 6) % 8 {
                    0 | 1 => 0.0,
                    2 => u * 1e-6,
                    3 => u / 4.0,
                    4 => u * 10.0,
                    5 => hi.abs() * 2f64.powi(-40),
                    6 => f64::INFINITY,
                    _ => 5e-324,
                };
                let err = if (r >> 9) % 29 == 0 { f64::NAN } else { err };
                FloatPartial {
                    hi,
                    lo,
                    n: (r >> 12) % 4,
                    err,
                }
            })
            .collect()
    }

    /// `FloatOut::quick`, `misses` and `values` give `value`'s bits wherever they say they
    /// decide, for every kind and result type, at every SIMD level this machine has.
    #[test]
    fn quick_values_are_value_s() {
        let parts = stress_partials(7, 20_000);
        let kinds = [false, true].into_iter().flat_map(|f32| {
            [
                FloatOut::Sum { f32 },
                FloatOut::Mean { f32, n: 1.0 },
                FloatOut::Mean { f32, n: 3.0 },
                FloatOut::Mean { f32, n: 1e6 },
                FloatOut::NanMean { f32 },
            ]
        });
        for kind in kinds {
            let full: Vec<f64> = parts.iter().map(|&p| kind.value(p, &mut |_| {})).collect();
            let result = if kind.f32() {
                ElemType::F32
            } else {
                ElemType::F64
            };
            let mut taken = 0;
            for &p in &parts {
                let (v, ok) = kind.quick(p);
                if ok {
                    taken += 1;
                    // Decided where the full rule decides, to the same bits (`value` alone
                    // would not tell: where undecided it falls back to `hi + lo`, often the
                    // same value).
                    let divisor = match kind {
                        FloatOut::Sum { .. } => None,
                        FloatOut::Mean { n, .. } => Some(n),
                        FloatOut::NanMean { .. } => Some(p.n as f64),
                    };
                    let want = decided_float(result, p, divisor);
                    assert_eq!(
                        want.map(f64::to_bits),
                        Some(v.to_bits()),
                        "{kind:?} of {p:?}"
                    );
                }
            }
            // The quick path must be the common one here too, and not all of it.
            assert!(taken > parts.len() / 4, "{kind:?}: {taken} taken");
            assert!(taken < parts.len(), "{kind:?}: all taken");
            for level in crate::simd::available_simd_levels() {
                let got = crate::simd::with_simd_level(level, || kind.values(&parts, &mut |_| {}));
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&full), "{kind:?} at {level:?}");
                let decided = parts.iter().all(|&p| kind.quick(p).1);
                assert!(!decided);
                let some: Vec<FloatPartial> =
                    parts.iter().copied().filter(|&p| kind.quick(p).1).collect();
                assert!(crate::simd::with_simd_level(level, || kind.misses(&some)).is_empty());
                // The undecided outputs, in order, wherever they fall in the chunks of eight
                // (the parts from several offsets).
                for skip in [0, 1, 7] {
                    let want: Vec<usize> = (0..parts.len() - skip)
                        .filter(|&o| !kind.quick(parts[skip + o]).1)
                        .collect();
                    let got = crate::simd::with_simd_level(level, || kind.misses(&parts[skip..]));
                    assert!(!want.is_empty());
                    assert_eq!(got, want, "{kind:?} at {level:?}, from {skip}");
                }
                // Exact partials only (the f32 means' one-division pass takes them).
                let exact: Vec<FloatPartial> = parts
                    .iter()
                    .copied()
                    .filter(|p| p.err == 0.0 && p.hi.is_finite() && p.n > 0)
                    .collect();
                assert!(exact.len() > 100);
                let want: Vec<f64> = exact.iter().map(|&p| kind.value(p, &mut |_| {})).collect();
                let got = crate::simd::with_simd_level(level, || kind.values(&exact, &mut |_| {}));
                assert_eq!(bits(&got), bits(&want), "{kind:?} at {level:?}, exact");
                // (An f32 sum's exact partial with a nonzero `lo` is rounded to odd first,
                // by `value` only.)
                if kind != (FloatOut::Sum { f32: true }) {
                    assert!(crate::simd::with_simd_level(level, || kind.misses(&exact)).is_empty());
                }
            }
        }
    }

    fn finalise(op: Op, elem: ElemType, count: u64, state: State) -> Outcome {
        let n = state.len();
        Partials::from_parts(op, elem, vec![n], count, state)
            .unwrap()
            .finalise(1.0)
            .unwrap()
    }

    #[test]
    fn integer_sums_wrap_like_numpy() {
        let s = State::Int(vec![i64::MAX as i128 + 1, -1, 300]);
        assert_eq!(
            finalise(Op::Sum, ElemType::I32, 2, s.clone()).values,
            Values::I64(vec![i64::MIN, -1, 300])
        );
        assert_eq!(
            finalise(Op::Sum, ElemType::U8, 2, s).values,
            Values::U64(vec![1 << 63, u64::MAX, 300])
        );
    }

    #[test]
    fn means_divide_by_the_count_or_warn() {
        let p = |hi: f64, n: u64| FloatPartial {
            hi,
            lo: 0.0,
            n,
            err: 0.0,
        };
        let s = State::Float(vec![p(6.0, 2), p(1.0, 0)]);
        // mean: by the count of elements; nanmean: by each output's non-NaN count.
        let m = finalise(Op::Mean, ElemType::F64, 4, s.clone());
        assert_eq!((m.values, m.warning), (Values::F64(vec![1.5, 0.25]), None));
        let m = finalise(Op::NanMean, ElemType::F32, 4, s);
        let Values::F32(v) = m.values else {
            panic!("nanmean of f32 is f32")
        };
        assert_eq!((v[0], v[1].is_nan()), (3.0, true));
        assert_eq!(m.warning, Some(Warning::MeanOfEmptySlice));
        let m = finalise(Op::Mean, ElemType::I8, 0, State::Int(vec![0]));
        assert_eq!(m.warning, Some(Warning::MeanOfEmptySlice));
    }

    #[test]
    fn variances_follow_numpy_for_no_degrees_of_freedom() {
        let p = |n: f64, m2: f64| VarPartial {
            n,
            m2,
            ..VarPartial::EMPTY
        };
        let s = State::Var(vec![p(5.0, 16.0), p(1.0, 0.0), p(1.0, 3.0)]);
        // ddof = 1: 16 / 4, then 0 / 0 and 3 / 0 with numpy's warning.
        let v = finalise(Op::Var, ElemType::F64, 5, s.clone());
        let Values::F64(x) = v.values else { panic!() };
        assert_eq!((x[0], x[1].is_nan(), x[2]), (4.0, true, f64::INFINITY));
        assert_eq!(v.warning, Some(Warning::DegreesOfFreedom));
        let Values::F64(x) = finalise(Op::Std, ElemType::I16, 5, s.clone()).values else {
            panic!()
        };
        assert_eq!(x[0], 2.0);
        // nanvar/nanstd of floats: NaN wherever n <= ddof; of integers as var.
        let Values::F64(x) = finalise(Op::NanVar, ElemType::F64, 5, s.clone()).values else {
            panic!()
        };
        assert!(x[2].is_nan());
        let Values::F64(x) = finalise(Op::NanVar, ElemType::U32, 5, s).values else {
            panic!()
        };
        assert_eq!(x[2], f64::INFINITY);
    }

    #[test]
    fn extremes_are_nan_by_their_flag() {
        let best = Values::F64(vec![1.0, 2.0]);
        let state = State::Extreme {
            best,
            flag: vec![true, false],
        };
        let m = finalise(Op::Min, ElemType::F64, 3, state.clone());
        let Values::F64(x) = m.values else { panic!() };
        assert_eq!((x[0].is_nan(), x[1], m.warning), (true, 2.0, None));
        let m = finalise(Op::NanMax, ElemType::F64, 3, state);
        let Values::F64(x) = m.values else { panic!() };
        assert_eq!((x[0], x[1].is_nan()), (1.0, true));
        assert_eq!(m.warning, Some(Warning::AllNanSlice));
        let ints = State::Extreme {
            best: Values::I8(vec![-3]),
            flag: vec![false],
        };
        assert_eq!(
            finalise(Op::NanMin, ElemType::I8, 1, ints).values,
            Values::I8(vec![-3])
        );
    }

    #[test]
    fn combine_is_the_kernels_arithmetic() {
        let maxima = |count: u64, best: [bool; 3]| {
            let state = State::Extreme {
                best: Values::Bool(best.to_vec()),
                flag: vec![false; 3],
            };
            Partials::from_parts(Op::Max, ElemType::Bool, vec![3], count, state).unwrap()
        };
        let a = maxima(2, [false, true, false]);
        let b = maxima(5, [false, false, true]);
        let c = a.combine(&b).unwrap();
        assert_eq!(c.count(), 7);
        assert_eq!(
            c.finalise(0.0).unwrap().values,
            Values::Bool(vec![false, true, true])
        );
        // TwoSum keeps what a plain add loses.
        let f = |hi: f64| {
            Partials::from_parts(
                Op::Sum,
                ElemType::F64,
                vec![],
                1,
                State::Float(vec![FloatPartial {
                    hi,
                    lo: 0.0,
                    n: 0,
                    err: 0.0,
                }]),
            )
            .unwrap()
        };
        let s = f(1e16)
            .combine(&f(1.0))
            .unwrap()
            .combine(&f(-1e16))
            .unwrap();
        assert_eq!(s.finalise(0.0).unwrap().values, Values::F64(vec![1.0]));
    }

    #[test]
    fn states_must_fit_the_reduction() {
        let wrong = Partials::from_parts(Op::Sum, ElemType::F64, vec![1], 1, State::Int(vec![1]));
        assert_eq!(
            wrong,
            Err(PartialsError::WrongState {
                expected: "Float",
                found: "Int"
            })
        );
        let other_type = State::Extreme {
            best: Values::I8(vec![1]),
            flag: vec![false],
        };
        let r = Partials::from_parts(Op::Min, ElemType::U8, vec![1], 1, other_type);
        assert!(matches!(r, Err(PartialsError::WrongState { .. })));
        let short = Partials::from_parts(Op::Var, ElemType::F32, vec![2, 3], 1, State::Var(vec![]));
        assert_eq!(
            short,
            Err(PartialsError::WrongLength {
                expected: 6,
                found: 0
            })
        );
        let counts =
            Partials::from_parts(Op::Sum, ElemType::I8, vec![], u64::MAX, State::Int(vec![0]));
        let counts = counts.unwrap();
        assert_eq!(
            counts.clone().combine(&counts),
            Err(PartialsError::CountOverflow)
        );
    }
}
