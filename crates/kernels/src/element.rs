//! The element types the kernels read, and what differs between them: numpy's result types,
//! the conversion to the accumulator, NaN, and the split used for exact integer sums.

use std::fmt::Debug;

mod sealed {
    pub trait Sealed {}
}

/// The element types, as values.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ElemType {
    /// `bool` (read as one byte: any nonzero byte is true, as numpy treats it)
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

impl ElemType {
    /// Bytes per element (also its alignment, which never exceeds the size).
    pub const fn size(self) -> usize {
        match self {
            Self::Bool | Self::I8 | Self::U8 => 1,
            Self::I16 | Self::U16 => 2,
            Self::I32 | Self::U32 | Self::F32 => 4,
            Self::I64 | Self::U64 | Self::F64 => 8,
        }
    }
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

/// A type that results are returned in: it has a [`Values`] variant.
pub trait Value: Copy + Send + Sync + Debug + PartialEq + 'static + sealed::Sealed {
    /// Wrap results of this type.
    fn into_values(v: Vec<Self>) -> Values;
    /// Unwrap results of this type (`None` if `v` holds another type).
    fn from_values(v: Values) -> Option<Vec<Self>>;
}

macro_rules! value {
    ($($t:ty => $v:ident),*) => {$(
        impl Value for $t {
            fn into_values(v: Vec<Self>) -> Values {
                Values::$v(v)
            }
            fn from_values(v: Values) -> Option<Vec<Self>> {
                match v {
                    Values::$v(v) => Some(v),
                    _ => None,
                }
            }
        }
    )*};
}
value!(bool => Bool, i8 => I8, i16 => I16, i32 => I32, i64 => I64, u8 => U8,
    u16 => U16, u32 => U32, u64 => U64, f32 => F32, f64 => F64);

/// An element type the kernels reduce: `f32`, `f64`, `i8`..`i64`, `u8`..`u64`, `bool`.
///
/// Result types follow numpy: sums of signed integers and bools are `i64`, of unsigned
/// integers `u64` (with numpy's wrap-around); sums of floats keep the float type. Means,
/// variances and standard deviations are `f32` for `f32` and `f64` otherwise. min/max keep the
/// input type.
pub trait Element: Value + PartialOrd {
    /// numpy's result type of `sum`.
    type Sum: Value;
    /// numpy's result type of `mean`, `var` and `std`.
    type Mean: Value;
    /// The type as a value.
    const ELEM: ElemType;
    /// numpy's dtype name (`"float64"`, `"int32"`, `"bool"`, ...).
    const NAME: &'static str;
    /// True for `f32` and `f64`: the sums use the compensated float kernel, and NaN exists.
    const IS_FLOAT: bool;
    /// The identity of `min` (the largest value; `+inf` for floats).
    const MIN_IDENTITY: Self;
    /// The identity of `max` (the smallest value; `-inf` for floats).
    const MAX_IDENTITY: Self;
    /// The value as `f64` (exact for every type but `i64`/`u64` beyond 2^53, as in numpy).
    fn to_f64(self) -> f64;
    /// True if the value is NaN (never for integers).
    fn is_nan(self) -> bool;
    /// `(hi, lo)` with `value == hi * 2^32 + lo`, both summable in `i64` over 2^31 elements
    /// without overflow. Types of 32 bits or fewer return `(0, value)`.
    fn split(self) -> (i64, i64);
    /// A float sum (f64 accumulator) in numpy's sum type. Only called for floats.
    fn sum_from_f64(x: f64) -> Self::Sum;
    /// An exact integer sum in numpy's sum type, wrapping as numpy does. Only called for
    /// integers and bool.
    fn sum_from_i128(x: i128) -> Self::Sum;
    /// An `f64` mean/var in numpy's mean type.
    fn mean_from_f64(x: f64) -> Self::Mean;
    /// A NaN of numpy's mean type.
    fn mean_nan() -> Self::Mean {
        Self::mean_from_f64(f64::NAN)
    }
    /// A NaN of this type, for min/max of floats; integers never produce it.
    fn nan_or_self(self) -> Self;
}

impl sealed::Sealed for f64 {}
impl Element for f64 {
    type Sum = f64;
    type Mean = f64;
    const ELEM: ElemType = ElemType::F64;
    const NAME: &'static str = "float64";
    const IS_FLOAT: bool = true;
    const MIN_IDENTITY: Self = f64::INFINITY;
    const MAX_IDENTITY: Self = f64::NEG_INFINITY;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        self.is_nan()
    }
    #[inline(always)]
    fn split(self) -> (i64, i64) {
        (0, 0)
    }
    fn sum_from_f64(x: f64) -> f64 {
        x
    }
    fn sum_from_i128(x: i128) -> f64 {
        x as f64
    }
    fn mean_from_f64(x: f64) -> f64 {
        x
    }
    fn nan_or_self(self) -> Self {
        f64::NAN
    }
}

impl sealed::Sealed for f32 {}
impl Element for f32 {
    type Sum = f32;
    type Mean = f32;
    const ELEM: ElemType = ElemType::F32;
    const NAME: &'static str = "float32";
    const IS_FLOAT: bool = true;
    const MIN_IDENTITY: Self = f32::INFINITY;
    const MAX_IDENTITY: Self = f32::NEG_INFINITY;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        self.is_nan()
    }
    #[inline(always)]
    fn split(self) -> (i64, i64) {
        (0, 0)
    }
    fn sum_from_f64(x: f64) -> f32 {
        x as f32
    }
    fn sum_from_i128(x: i128) -> f32 {
        x as f32
    }
    fn mean_from_f64(x: f64) -> f32 {
        x as f32
    }
    fn nan_or_self(self) -> Self {
        f32::NAN
    }
}

/// Integer types: what differs is only the sum type and whether the value needs splitting.
macro_rules! int_element {
    ($t:ty, $elem:ident, $sum:ty, $name:literal, $wide:literal) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            type Sum = $sum;
            type Mean = f64;
            const ELEM: ElemType = ElemType::$elem;
            const NAME: &'static str = $name;
            const IS_FLOAT: bool = false;
            const MIN_IDENTITY: Self = <$t>::MAX;
            const MAX_IDENTITY: Self = <$t>::MIN;
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                false
            }
            #[inline(always)]
            fn split(self) -> (i64, i64) {
                if $wide {
                    // Arithmetic (signed) or logical (unsigned) shift: hi * 2^32 + lo == self.
                    ((self >> 32) as i64, (self as i64) & 0xffff_ffff)
                } else {
                    (0, self as i64)
                }
            }
            fn sum_from_f64(x: f64) -> $sum {
                x as $sum
            }
            fn sum_from_i128(x: i128) -> $sum {
                // Truncation to 64 bits is numpy's modular wrap-around.
                x as $sum
            }
            fn mean_from_f64(x: f64) -> f64 {
                x
            }
            fn nan_or_self(self) -> Self {
                self
            }
        }
    };
}

int_element!(i8, I8, i64, "int8", false);
int_element!(i16, I16, i64, "int16", false);
int_element!(i32, I32, i64, "int32", false);
int_element!(i64, I64, i64, "int64", true);
int_element!(u8, U8, u64, "uint8", false);
int_element!(u16, U16, u64, "uint16", false);
int_element!(u32, U32, u64, "uint32", false);
int_element!(u64, U64, u64, "uint64", true);

impl sealed::Sealed for bool {}
impl Element for bool {
    type Sum = i64;
    type Mean = f64;
    const ELEM: ElemType = ElemType::Bool;
    const NAME: &'static str = "bool";
    const IS_FLOAT: bool = false;
    const MIN_IDENTITY: Self = true;
    const MAX_IDENTITY: Self = false;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        false
    }
    #[inline(always)]
    fn split(self) -> (i64, i64) {
        (0, self as i64)
    }
    fn sum_from_f64(x: f64) -> i64 {
        x as i64
    }
    fn sum_from_i128(x: i128) -> i64 {
        x as i64
    }
    fn mean_from_f64(x: f64) -> f64 {
        x
    }
    fn nan_or_self(self) -> Self {
        self
    }
}

/// numpy's bool as the kernels read it: one byte, true if nonzero. numpy arrays can hold
/// bytes other than 0 and 1 (`np.array([0, 2, 255], np.uint8).view(bool)`), which a Rust
/// `bool` must never hold, so bool data is never read as `bool`. Only the sums, means and
/// variances run on this type; min/max of bool run on the bytes as `u8` (the least byte is
/// nonzero exactly when every byte is, the greatest when any is).
#[derive(Clone, Copy, PartialEq, PartialOrd, Debug)]
#[repr(transparent)]
pub(crate) struct Bool8(u8);

impl sealed::Sealed for Bool8 {}
/// Never used: min/max of bool run on `u8`; the impl only satisfies [`Element`]'s bound.
impl Value for Bool8 {
    fn into_values(v: Vec<Self>) -> Values {
        Values::Bool(v.into_iter().map(|b| b.0 != 0).collect())
    }
    fn from_values(_: Values) -> Option<Vec<Self>> {
        None
    }
}
impl Element for Bool8 {
    type Sum = i64;
    type Mean = f64;
    const ELEM: ElemType = ElemType::Bool;
    const NAME: &'static str = "bool";
    const IS_FLOAT: bool = false;
    const MIN_IDENTITY: Self = Bool8(u8::MAX);
    const MAX_IDENTITY: Self = Bool8(0);
    #[inline(always)]
    fn to_f64(self) -> f64 {
        (self.0 != 0) as u8 as f64
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        false
    }
    #[inline(always)]
    fn split(self) -> (i64, i64) {
        (0, (self.0 != 0) as i64)
    }
    fn sum_from_f64(x: f64) -> i64 {
        x as i64
    }
    fn sum_from_i128(x: i128) -> i64 {
        x as i64
    }
    fn mean_from_f64(x: f64) -> f64 {
        x
    }
    fn nan_or_self(self) -> Self {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rebuild<T: Element>(x: T) -> i128 {
        let (h, l) = x.split();
        ((h as i128) << 32) + l as i128
    }

    #[test]
    fn split_is_exact_at_the_limits() {
        for x in [
            i64::MIN,
            i64::MIN + 1,
            -1,
            0,
            1,
            i64::MAX,
            0x1234_5678_9abc_def0,
        ] {
            assert_eq!(rebuild(x), x as i128);
        }
        for x in [0u64, 1, u64::MAX, u64::MAX - 1, 1 << 63] {
            assert_eq!(rebuild(x), x as i128);
        }
        assert_eq!(rebuild(i32::MIN), i32::MIN as i128);
        assert_eq!(rebuild(u32::MAX), u32::MAX as i128);
        assert_eq!(rebuild(true), 1);
    }

    #[test]
    fn sums_wrap_like_numpy() {
        assert_eq!(i64::sum_from_i128(i64::MAX as i128 + 1), i64::MIN);
        assert_eq!(u64::sum_from_i128(-1), u64::MAX);
        assert_eq!(u8::sum_from_i128(300), 300u64);
    }
}
