//! The reductions, in one table.
//!
//! Each [`Op`] has one row in [`Op::info`]'s table: its numpy name, what it computes
//! ([`Family`]), its NaN handling, the keywords numpy's function takes, its result type and its
//! degenerate case. Everything that differs between reductions is read from here: the typed
//! dispatch in [`crate::dynamic`], the Python binding's rules (which keywords a call may
//! give, which calls numpy answers itself) and, through the binding's `_native.REDUCTIONS`,
//! the Python wrappers, the tests and the benchmark harness.
//!
//! Adding a reduction whose kernel exists: a variant of [`Op`], its row in `TABLE`, its arm in
//! `dynamic.rs` if its family is new, and its numpy-signature wrapper in the binding's
//! `_reduce.py`. The test suites enumerate [`Op::ALL`] / `REDUCTIONS`.

use crate::{ElemType, Warning};
use std::ffi::CStr;

/// The reductions, as values.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Op {
    /// [`crate::sum`]
    Sum,
    /// [`crate::nansum`]
    NanSum,
    /// [`crate::mean`]
    Mean,
    /// [`crate::nanmean`]
    NanMean,
    /// [`crate::var`]
    Var,
    /// [`crate::nanvar`]
    NanVar,
    /// [`crate::std`]
    Std,
    /// [`crate::nanstd`]
    NanStd,
    /// [`crate::min`]
    Min,
    /// [`crate::nanmin`]
    NanMin,
    /// [`crate::max`]
    Max,
    /// [`crate::nanmax`]
    NanMax,
    /// [`crate::count_nonzero`]
    CountNonzero,
    /// [`crate::any`]
    Any,
    /// [`crate::all`]
    All,
    /// [`crate::ptp`]
    Ptp,
    /// [`crate::argmin`]
    Argmin,
    /// [`crate::argmax`]
    Argmax,
    /// [`crate::nanargmin`]
    NanArgmin,
    /// [`crate::nanargmax`]
    NanArgmax,
    /// [`crate::prod`]
    Prod,
    /// [`crate::nanprod`]
    NanProd,
}

/// What a reduction computes, which decides its kernel and its result type.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Family {
    /// A sum: the sum type ([`ElemType::sum_type`]); the empty sum is 0.
    Sum,
    /// A mean: the mean type ([`ElemType::mean_type`]).
    Mean,
    /// A variance, or with [`Info::sqrt`] a standard deviation: the mean type.
    Var,
    /// A minimum or, with [`Info::max`], a maximum: the input type.
    Extreme,
    /// The number of elements that are not zero (NaN is not zero): numpy's `intp` (int64).
    CountNonzero,
    /// Whether any element is not zero: bool (false for an empty slice).
    Any,
    /// Whether every element is not zero: bool (true for an empty slice).
    All,
    /// The range, maximum minus minimum (`ptp`): the input type, integers wrapping as numpy's
    /// subtraction does; NaN if any element is NaN.
    Range,
    /// The position of the minimum or, with [`Info::max`], the maximum (first occurrence;
    /// the first NaN under the plain functions): numpy's `intp` (int64). One axis or all.
    Arg,
    /// A product: the sum type ([`ElemType::sum_type`]), integers wrapping as numpy's; the
    /// empty product is 1.
    Prod,
}

/// How NaN elements are treated: the plain functions propagate them, the `nan*` ones skip
/// them. (The kernels' type-level policies are [`crate::Propagate`] and [`crate::Ignore`].)
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum NanHandling {
    /// Any NaN makes the result NaN.
    Propagate,
    /// NaN elements are left out, and not counted.
    Ignore,
}

/// When a slice has too few elements for a value: numpy's degenerate cases.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Degenerate {
    /// Never (an empty sum is 0).
    Never,
    /// An empty slice: NaN, with "Mean of empty slice".
    Empty,
    /// `n - ddof <= 0`: numpy's `M2 / max(n - ddof, 0)`, with "Degrees of freedom <= 0"; and
    /// an empty slice whatever `ddof` (numpy's mean of it is 0/0).
    NoDegreesOfFreedom,
    /// An empty slice is an error ([`crate::ReduceError::EmptyMinMax`], numpy's ValueError).
    EmptyIsError,
}

/// One row of the table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Info {
    /// The reduction this row describes.
    pub op: Op,
    /// numpy's name for it (`numpy.<name>`).
    pub name: &'static str,
    /// What it computes.
    pub family: Family,
    /// Its NaN handling.
    pub nan: NanHandling,
    /// [`Family::Var`]: the square root of the variance (std).
    pub sqrt: bool,
    /// [`Family::Extreme`] and [`Family::Arg`]: the maximum.
    pub max: bool,
    /// The keyword parameters numpy's function takes besides `a`, in numpy's order.
    pub keywords: &'static [Kw],
    /// Its degenerate case.
    pub degenerate: Degenerate,
}

/// The keyword parameters of numpy's reductions.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Kw {
    /// `axis`
    Axis,
    /// `dtype`
    Dtype,
    /// `out`
    Out,
    /// `ddof`
    Ddof,
    /// `keepdims`
    Keepdims,
    /// `initial`
    Initial,
    /// `where`
    Where,
    /// `mean`
    Mean,
    /// `correction`
    Correction,
}

impl Kw {
    /// Every keyword.
    pub const ALL: [Kw; 9] = [
        Kw::Axis,
        Kw::Dtype,
        Kw::Out,
        Kw::Ddof,
        Kw::Keepdims,
        Kw::Initial,
        Kw::Where,
        Kw::Mean,
        Kw::Correction,
    ];

    /// numpy's name for it.
    pub const fn name(self) -> &'static str {
        match self {
            Kw::Axis => "axis",
            Kw::Dtype => "dtype",
            Kw::Out => "out",
            Kw::Ddof => "ddof",
            Kw::Keepdims => "keepdims",
            Kw::Initial => "initial",
            Kw::Where => "where",
            Kw::Mean => "mean",
            Kw::Correction => "correction",
        }
    }

    /// The keyword numpy calls `name`.
    pub fn from_name(name: &str) -> Option<Kw> {
        Kw::ALL.into_iter().find(|k| k.name() == name)
    }

    /// True if numpy's default for it is `numpy._NoValue`, so that passing `_NoValue` means
    /// not giving it. For the others (axis, dtype, out, ddof), whose defaults are real
    /// values, `_NoValue` is a value that numpy refuses.
    pub const fn defaults_to_no_value(self) -> bool {
        matches!(
            self,
            Kw::Keepdims | Kw::Initial | Kw::Where | Kw::Mean | Kw::Correction
        )
    }
}

use Kw::*;
const SUM_KW: &[Kw] = &[Axis, Dtype, Out, Keepdims, Initial, Where];
const MEAN_KW: &[Kw] = &[Axis, Dtype, Out, Keepdims, Where];
const VAR_KW: &[Kw] = &[Axis, Dtype, Out, Ddof, Keepdims, Where, Mean, Correction];
const EXTREME_KW: &[Kw] = &[Axis, Out, Keepdims, Initial, Where];
const COUNT_KW: &[Kw] = &[Axis, Keepdims];
const LOGICAL_KW: &[Kw] = &[Axis, Out, Keepdims, Where];
const RANGE_KW: &[Kw] = &[Axis, Out, Keepdims];
const ARG_KW: &[Kw] = &[Axis, Out, Keepdims];

const fn row(op: Op, name: &'static str, family: Family, nan: NanHandling) -> Info {
    let (keywords, degenerate) = match family {
        Family::Sum => (SUM_KW, Degenerate::Never),
        Family::Mean => (MEAN_KW, Degenerate::Empty),
        Family::Var => (VAR_KW, Degenerate::NoDegreesOfFreedom),
        Family::Extreme => (EXTREME_KW, Degenerate::EmptyIsError),
        Family::CountNonzero => (COUNT_KW, Degenerate::Never),
        Family::Any | Family::All => (LOGICAL_KW, Degenerate::Never),
        Family::Range => (RANGE_KW, Degenerate::EmptyIsError),
        Family::Arg => (ARG_KW, Degenerate::EmptyIsError),
        Family::Prod => (SUM_KW, Degenerate::Never),
    };
    Info {
        op,
        name,
        family,
        nan,
        sqrt: false,
        max: false,
        keywords,
        degenerate,
    }
}

const fn with_sqrt(i: Info) -> Info {
    Info { sqrt: true, ..i }
}

const fn with_max(i: Info) -> Info {
    Info { max: true, ..i }
}

use Family as F;
use NanHandling::{Ignore as I, Propagate as P};

/// The table, in [`Op`]'s order (a test checks it).
const TABLE: &[Info] = &[
    row(Op::Sum, "sum", F::Sum, P),
    row(Op::NanSum, "nansum", F::Sum, I),
    row(Op::Mean, "mean", F::Mean, P),
    row(Op::NanMean, "nanmean", F::Mean, I),
    row(Op::Var, "var", F::Var, P),
    row(Op::NanVar, "nanvar", F::Var, I),
    with_sqrt(row(Op::Std, "std", F::Var, P)),
    with_sqrt(row(Op::NanStd, "nanstd", F::Var, I)),
    row(Op::Min, "min", F::Extreme, P),
    row(Op::NanMin, "nanmin", F::Extreme, I),
    with_max(row(Op::Max, "max", F::Extreme, P)),
    with_max(row(Op::NanMax, "nanmax", F::Extreme, I)),
    row(Op::CountNonzero, "count_nonzero", F::CountNonzero, P),
    row(Op::Any, "any", F::Any, P),
    row(Op::All, "all", F::All, P),
    row(Op::Ptp, "ptp", F::Range, P),
    row(Op::Argmin, "argmin", F::Arg, P),
    with_max(row(Op::Argmax, "argmax", F::Arg, P)),
    row(Op::NanArgmin, "nanargmin", F::Arg, I),
    with_max(row(Op::NanArgmax, "nanargmax", F::Arg, I)),
    row(Op::Prod, "prod", F::Prod, P),
    row(Op::NanProd, "nanprod", F::Prod, I),
];

impl Op {
    /// Every reduction, in the table's order.
    pub const ALL: [Op; TABLE.len()] = {
        let mut all = [Op::Sum; TABLE.len()];
        let mut i = 0;
        while i < TABLE.len() {
            all[i] = TABLE[i].op;
            i += 1;
        }
        all
    };

    /// Its row of the table.
    pub const fn info(self) -> &'static Info {
        &TABLE[self as usize]
    }

    /// numpy's name for it.
    pub const fn name(self) -> &'static str {
        self.info().name
    }

    /// The reduction numpy calls `name`.
    pub fn from_name(name: &str) -> Option<Op> {
        TABLE.iter().find(|i| i.name == name).map(|i| i.op)
    }

    /// The type of its results for input of type `elem` (numpy's default result dtype).
    pub const fn result_type(self, elem: ElemType) -> ElemType {
        match self.info().family {
            Family::Sum | Family::Prod => elem.sum_type(),
            Family::Mean | Family::Var => elem.mean_type(),
            Family::Extreme | Family::Range => elem,
            Family::CountNonzero | Family::Arg => ElemType::I64,
            Family::Any | Family::All => ElemType::Bool,
        }
    }

    /// True if a slice of `count` elements is degenerate for it (see [`Degenerate`]): the
    /// result is numpy's warning or error rather than a value. For the nan-functions the
    /// count that matters is the non-NaN one, known only after reading the data; `count`
    /// is then an upper bound.
    pub fn is_degenerate(self, count: usize, ddof: f64) -> bool {
        match self.info().degenerate {
            Degenerate::Never => false,
            Degenerate::Empty | Degenerate::EmptyIsError => count == 0,
            Degenerate::NoDegreesOfFreedom => count == 0 || count as f64 <= ddof,
        }
    }

    /// True if numpy's function defaults keyword `kw` to `numpy._NoValue` (see
    /// [`Kw::defaults_to_no_value`]); `count_nonzero`'s `keepdims` defaults to `False`, so
    /// numpy refuses `_NoValue` there.
    pub fn defaults_to_no_value(self, kw: Kw) -> bool {
        kw.defaults_to_no_value() && !(self == Op::CountNonzero && kw == Kw::Keepdims)
    }

    /// numpy's text for `warning` coming from this reduction (the nan-functions word one of
    /// them differently).
    pub const fn warning_text(self, warning: Warning) -> &'static CStr {
        warning.text(self.info().nan)
    }
}

impl Warning {
    /// numpy's text for this warning from a function with NaN handling `nan`: as
    /// `numpy/_core/_methods.py` words it for the plain functions and
    /// `numpy/lib/_nanfunctions_impl.py` for the nan-functions.
    pub const fn text(self, nan: NanHandling) -> &'static CStr {
        match (self, nan) {
            (Warning::MeanOfEmptySlice, _) => c"Mean of empty slice",
            (Warning::DegreesOfFreedom, NanHandling::Propagate) => {
                c"Degrees of freedom <= 0 for slice"
            }
            (Warning::DegreesOfFreedom, NanHandling::Ignore) => {
                c"Degrees of freedom <= 0 for slice."
            }
            (Warning::AllNanSlice, _) => c"All-NaN slice encountered",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_op_order_with_unique_names() {
        for (i, op) in Op::ALL.into_iter().enumerate() {
            assert_eq!(op as usize, i);
            assert_eq!(op.info().op, op);
            assert_eq!(Op::from_name(op.name()), Some(op));
        }
        let mut names: Vec<_> = Op::ALL.iter().map(|o| o.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Op::ALL.len());
        assert_eq!(Op::from_name("average"), None);
    }

    #[test]
    fn no_value_defaults_are_numpys() {
        assert!(Op::Sum.defaults_to_no_value(Kw::Keepdims));
        assert!(Op::Any.defaults_to_no_value(Kw::Where));
        assert!(!Op::CountNonzero.defaults_to_no_value(Kw::Keepdims));
        assert!(!Op::Sum.defaults_to_no_value(Kw::Axis));
    }

    #[test]
    fn keywords_by_name() {
        for k in Kw::ALL {
            assert_eq!(Kw::from_name(k.name()), Some(k));
        }
        assert_eq!(Kw::from_name("q"), None);
    }

    #[test]
    fn nan_functions_are_named_nan() {
        for op in Op::ALL {
            let i = op.info();
            assert_eq!(
                i.name.starts_with("nan"),
                i.nan == NanHandling::Ignore,
                "{op:?}"
            );
            assert_eq!(i.sqrt, i.name.ends_with("std"), "{op:?}");
            assert_eq!(i.max, i.name.ends_with("max"), "{op:?}");
        }
    }

    #[test]
    fn result_types_follow_numpy() {
        assert_eq!(Op::Sum.result_type(ElemType::Bool), ElemType::I64);
        assert_eq!(Op::NanSum.result_type(ElemType::U8), ElemType::U64);
        assert_eq!(Op::Sum.result_type(ElemType::F32), ElemType::F32);
        assert_eq!(Op::Mean.result_type(ElemType::I32), ElemType::F64);
        assert_eq!(Op::Std.result_type(ElemType::F32), ElemType::F32);
        assert_eq!(Op::Max.result_type(ElemType::I16), ElemType::I16);
        assert_eq!(Op::CountNonzero.result_type(ElemType::F32), ElemType::I64);
        assert_eq!(Op::Any.result_type(ElemType::U8), ElemType::Bool);
        assert_eq!(Op::All.result_type(ElemType::Bool), ElemType::Bool);
        assert_eq!(Op::Prod.result_type(ElemType::Bool), ElemType::I64);
        assert_eq!(Op::NanProd.result_type(ElemType::U16), ElemType::U64);
        assert_eq!(Op::Prod.result_type(ElemType::F32), ElemType::F32);
    }

    #[test]
    fn degenerate_cases() {
        assert!(!Op::Sum.is_degenerate(0, 0.0));
        assert!(Op::Mean.is_degenerate(0, 0.0) && !Op::Mean.is_degenerate(1, 0.0));
        assert!(Op::Var.is_degenerate(1, 1.0) && !Op::Var.is_degenerate(2, 1.0));
        assert!(Op::NanStd.is_degenerate(0, -1.0) && !Op::NanStd.is_degenerate(1, -1.0));
        assert!(Op::NanMax.is_degenerate(0, 0.0) && !Op::NanMax.is_degenerate(1, 0.0));
        assert!(!Op::CountNonzero.is_degenerate(0, 0.0));
        assert!(!Op::Any.is_degenerate(0, 0.0) && !Op::All.is_degenerate(0, 0.0));
    }

    #[test]
    fn warning_texts_are_numpys() {
        let dof = Warning::DegreesOfFreedom;
        assert_eq!(
            Op::Var.warning_text(dof),
            c"Degrees of freedom <= 0 for slice"
        );
        assert_eq!(
            Op::NanStd.warning_text(dof),
            c"Degrees of freedom <= 0 for slice."
        );
        assert_eq!(
            Op::NanMean.warning_text(Warning::MeanOfEmptySlice),
            c"Mean of empty slice"
        );
    }
}
