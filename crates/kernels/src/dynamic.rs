//! A type-erased entry point for bindings: the element type and the reduction are values, the
//! memory is a pointer with byte strides (as numpy describes arrays).
//!
//! Every (type, reduction) pair is instantiated here, in this crate, once: a binding that calls
//! [`reduce_raw`] compiles in seconds instead of re-instantiating every kernel at every SIMD
//! level itself. Enabled by the `dynamic` feature.
//!
//! Tested through the Python package, whose every kernel call comes here
//! (`crates/pybind/tests`): a Rust test of this module would compile every instantiation a
//! second time in the test profile, minutes of build for no extra coverage.

use crate::{Element, ReduceError, Reduced, Reduction, StridedView, Warning};

/// The element types, as values.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ElemType {
    /// `bool`
    Bool,
    /// `i8`
    I8,
    /// `i16`
    I16,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `u8`
    U8,
    /// `u16`
    U16,
    /// `u32`
    U32,
    /// `u64`
    U64,
    /// `f32`
    F32,
    /// `f64`
    F64,
}

/// The reductions, as values.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
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
}

/// Values of one of the result types.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// min/max of bool
    Bool(Vec<bool>),
    /// min/max of i8
    I8(Vec<i8>),
    /// min/max of i16
    I16(Vec<i16>),
    /// min/max of i32
    I32(Vec<i32>),
    /// sums of signed integers and bool; min/max of i64
    I64(Vec<i64>),
    /// min/max of u8
    U8(Vec<u8>),
    /// min/max of u16
    U16(Vec<u16>),
    /// min/max of u32
    U32(Vec<u32>),
    /// sums of unsigned integers; min/max of u64
    U64(Vec<u64>),
    /// everything of f32
    F32(Vec<f32>),
    /// means/var/std of everything but f32; everything of f64
    F64(Vec<f64>),
}

/// The result of [`reduce_raw`]: `shape` is empty for a full reduction (one value).
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The kept axes, in order (`[]` for a full reduction).
    pub shape: Vec<usize>,
    /// The values in C order.
    pub values: Values,
    /// numpy's RuntimeWarning, if any.
    pub warning: Option<Warning>,
}

/// A result type that has a [`Values`] variant.
trait IntoValues: Sized {
    fn into_values(v: Vec<Self>) -> Values;
}

macro_rules! into_values {
    ($($t:ty => $v:ident),*) => {$(
        impl IntoValues for $t {
            fn into_values(v: Vec<Self>) -> Values {
                Values::$v(v)
            }
        }
    )*};
}
into_values!(bool => Bool, i8 => I8, i16 => I16, i32 => I32, i64 => I64, u8 => U8,
    u16 => U16, u32 => U32, u64 => U64, f32 => F32, f64 => F64);

fn whole<R: IntoValues>(r: Reduced<R>) -> Outcome {
    Outcome {
        shape: Vec::new(),
        values: R::into_values(vec![r.value]),
        warning: r.warning,
    }
}

fn axes<R: IntoValues>(r: Reduction<R>) -> Outcome {
    Outcome {
        shape: r.shape,
        values: R::into_values(r.data),
        warning: r.warning,
    }
}

fn plain<R>(value: R) -> Reduced<R> {
    Reduced {
        value,
        warning: None,
    }
}

fn reduce_view<T>(
    op: Op,
    view: &StridedView<'_, T>,
    over: Option<&[isize]>,
    ddof: f64,
) -> Result<Outcome, ReduceError>
where
    T: Element + IntoValues,
    T::Sum: IntoValues,
    T::Mean: IntoValues,
{
    use crate as sw;
    let Some(a) = over else {
        return Ok(match op {
            Op::Sum => whole(plain(sw::sum(view))),
            Op::NanSum => whole(plain(sw::nansum(view))),
            Op::Mean => whole(sw::mean(view)),
            Op::NanMean => whole(sw::nanmean(view)),
            Op::Var => whole(sw::var(view, ddof)),
            Op::NanVar => whole(sw::nanvar(view, ddof)),
            Op::Std => whole(sw::std(view, ddof)),
            Op::NanStd => whole(sw::nanstd(view, ddof)),
            Op::Min => whole(plain(sw::min(view)?)),
            Op::Max => whole(plain(sw::max(view)?)),
            Op::NanMin => whole(sw::nanmin(view)?),
            Op::NanMax => whole(sw::nanmax(view)?),
        });
    };
    Ok(match op {
        Op::Sum => axes(sw::sum_axes(view, a)?),
        Op::NanSum => axes(sw::nansum_axes(view, a)?),
        Op::Mean => axes(sw::mean_axes(view, a)?),
        Op::NanMean => axes(sw::nanmean_axes(view, a)?),
        Op::Var => axes(sw::var_axes(view, a, ddof)?),
        Op::NanVar => axes(sw::nanvar_axes(view, a, ddof)?),
        Op::Std => axes(sw::std_axes(view, a, ddof)?),
        Op::NanStd => axes(sw::nanstd_axes(view, a, ddof)?),
        Op::Min => axes(sw::min_axes(view, a)?),
        Op::Max => axes(sw::max_axes(view, a)?),
        Op::NanMin => axes(sw::nanmin_axes(view, a)?),
        Op::NanMax => axes(sw::nanmax_axes(view, a)?),
    })
}

/// The memory could not be read as the element type: misaligned, or a byte stride that is
/// not a whole number of elements. The caller copies first.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Unreadable;

/// Reduce `elem`s at `ptr` with numpy-style byte strides over `over` (`None`: every axis).
///
/// `Err(Unreadable)` if the layout cannot be read in place; otherwise the reduction's own
/// result.
///
/// # Safety
/// As [`StridedView::from_raw_parts`]: for the lifetime of the call, every element
/// `ptr + Σ i_k * byte_strides[k]` (`0 <= i_k < shape[k]`) is a valid, initialised `elem`
/// that nobody mutates, the extent fits `isize`, and `shape.len() == byte_strides.len()`.
pub unsafe fn reduce_raw(
    elem: ElemType,
    op: Op,
    ptr: *const u8,
    shape: &[usize],
    byte_strides: &[isize],
    over: Option<&[isize]>,
    ddof: f64,
) -> Result<Result<Outcome, ReduceError>, Unreadable> {
    macro_rules! typed {
        ($($v:ident => $t:ty),*) => {
            match elem {
                $(ElemType::$v => {
                    // SAFETY: the caller's contract, for elements of type `$t`.
                    let view = unsafe { StridedView::<$t>::from_byte_strides(ptr, shape, byte_strides) }
                        .ok_or(Unreadable)?;
                    Ok(reduce_view(op, &view, over, ddof))
                })*
            }
        };
    }
    typed!(Bool => bool, I8 => i8, I16 => i16, I32 => i32, I64 => i64, U8 => u8, U16 => u16,
        U32 => u32, U64 => u64, F32 => f32, F64 => f64)
}
