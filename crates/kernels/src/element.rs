//! The element types the kernels read, and what differs between them: numpy's result types,
//! the conversion to the accumulator, NaN, and the split used for exact integer sums.

use std::fmt::Debug;

pub(crate) mod sealed {
    /// Implemented by the crate's element and value types only.
    pub trait Sealed {
        /// A flag as wide as the type (a NaN flag of the min/max kernels): a compare of two
        /// vectors of `f64` gives 64-bit lane masks, which OR into `u64` lanes in one
        /// instruction; `bool` lanes cost a narrowing shuffle each (min of 1e5 f64 spent
        /// five instructions per vector on it).
        type Flag: Copy
            + Default
            + Eq
            + From<bool>
            + std::ops::BitOr<Output = Self::Flag>
            + Send
            + Sync
            + 'static;
        /// A counter as wide as the type (the lanes of the count_nonzero kernel): a compare's
        /// lane mask adds into it without widening, so u8 data is counted 32 bytes a vector
        /// op. It holds at most [`Sealed::TALLY_MAX`] before it is emptied into a `u64`.
        type Tally: Copy
            + Default
            + From<bool>
            + Into<u64>
            + std::ops::Add<Output = Self::Tally>
            + Send
            + Sync
            + 'static;
        /// The largest value a [`Sealed::Tally`] holds.
        const TALLY_MAX: u64;
        /// The zeros among the `len` contiguous elements at `ptr`, counted with `simd`'s
        /// vectors (`crate::kernels::count`), or `None` for a type without such a loop (the
        /// one-byte types, whose tallies the compiler vectorises well; it made scalar code
        /// of the wider ones' compare-and-add, count_nonzero of 1e5 i16 at 0.12x numpy).
        ///
        /// # Safety
        /// `ptr .. ptr + len` must be valid, initialised elements.
        #[inline(always)]
        unsafe fn simd_zeros<S: pulp::Simd>(_simd: S, _ptr: *const Self, _len: usize) -> Option<u64>
        where
            Self: Sized,
        {
            None
        }
        /// argmin (`MAX` false) / argmax of the `len` contiguous elements at `ptr` (at most
        /// `crate::kernels::arg::CHUNK`): the best value and the position of its first
        /// occurrence, found with `simd`'s vectors (`crate::kernels::arg::first_chunk`), or
        /// `None` for a type without such a loop, a chunk shorter than a vector, or a float
        /// chunk that may hold a NaN.
        ///
        /// # Safety
        /// `ptr .. ptr + len` must be valid, initialised elements.
        #[inline(always)]
        unsafe fn arg_first<S: pulp::Simd, const MAX: bool>(
            _simd: S,
            _ptr: *const Self,
            _len: usize,
        ) -> Option<(Self, u64)>
        where
            Self: Sized,
        {
            None
        }
        /// `self + x` for the floats (a NaN probe: NaN once any `x` is, or from infinities of
        /// both signs or an overflow; `crate::kernels::arg`'s `chunk_found`); `self` for the
        /// others, which have no NaN.
        #[inline(always)]
        fn nan_probe(self, _x: Self) -> Self
        where
            Self: Sized,
        {
            self
        }
    }
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

/// What each element type is called outside Rust, in one table: numpy's name, kind and
/// item size (from which numpy's `__array_interface__` typestr follows), and DLPack's type
/// code. Every adapter (numpy arrays, the buffer protocol, `__array_interface__`, DLPack)
/// maps its description to an [`ElemType`] through the functions below, which all read it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ElemInfo {
    /// The type.
    pub elem: ElemType,
    /// numpy's dtype name.
    pub numpy: &'static str,
    /// numpy's dtype kind: `b` bool, `i` signed, `u` unsigned, `f` float.
    pub kind: u8,
    /// Bytes per element.
    pub size: usize,
    /// DLPack's `DLDataTypeCode` (kDLInt 0, kDLUInt 1, kDLFloat 2, kDLBool 6).
    pub dlpack_code: u8,
}

const fn info(elem: ElemType, numpy: &'static str, kind: u8, size: usize, dl: u8) -> ElemInfo {
    ElemInfo {
        elem,
        numpy,
        kind,
        size,
        dlpack_code: dl,
    }
}

/// The table, in [`ElemType`]'s order (a test checks it).
const ELEMS: [ElemInfo; 11] = [
    info(ElemType::Bool, "bool", b'b', 1, 6),
    info(ElemType::I8, "int8", b'i', 1, 0),
    info(ElemType::I16, "int16", b'i', 2, 0),
    info(ElemType::I32, "int32", b'i', 4, 0),
    info(ElemType::I64, "int64", b'i', 8, 0),
    info(ElemType::U8, "uint8", b'u', 1, 1),
    info(ElemType::U16, "uint16", b'u', 2, 1),
    info(ElemType::U32, "uint32", b'u', 4, 1),
    info(ElemType::U64, "uint64", b'u', 8, 1),
    info(ElemType::F32, "float32", b'f', 4, 2),
    info(ElemType::F64, "float64", b'f', 8, 2),
];

impl ElemType {
    /// Every element type, in the table's order.
    pub const ALL: [ElemType; 11] = [
        Self::Bool,
        Self::I8,
        Self::I16,
        Self::I32,
        Self::I64,
        Self::U8,
        Self::U16,
        Self::U32,
        Self::U64,
        Self::F32,
        Self::F64,
    ];

    /// Its row of the table.
    pub const fn info(self) -> &'static ElemInfo {
        &ELEMS[self as usize]
    }

    /// Bytes per element (also its alignment, which never exceeds the size).
    pub const fn size(self) -> usize {
        self.info().size
    }

    /// True for `F32` and `F64`.
    pub const fn is_float(self) -> bool {
        self.info().kind == b'f'
    }

    /// numpy's result type of a sum: `i64` for signed integers and bool, `u64` for unsigned
    /// integers, the type itself for floats.
    pub const fn sum_type(self) -> ElemType {
        match self.info().kind {
            b'u' => Self::U64,
            b'f' => self,
            _ => Self::I64,
        }
    }

    /// numpy's result type of a mean, variance or standard deviation: `f32` for `f32`,
    /// `f64` for everything else.
    pub const fn mean_type(self) -> ElemType {
        match self {
            Self::F32 => Self::F32,
            _ => Self::F64,
        }
    }

    /// The type of numpy's `kind` (`dtype.kind`) and `size` (`dtype.itemsize`), if the
    /// kernels read it.
    pub fn from_numpy(kind: u8, size: usize) -> Option<ElemType> {
        ELEMS
            .iter()
            .find(|i| i.kind == kind && i.size == size)
            .map(|i| i.elem)
    }

    /// The type of a buffer-protocol format (Python's `struct` syntax: `"d"`, `"=l"`, `"@B"`,
    /// `"?"`) with item size `size`, if it is one element in native byte order. The size
    /// decides between C types of platform-dependent width (`l`).
    pub fn from_format(format: &str, size: usize) -> Option<ElemType> {
        let native_prefix: &[char] = if cfg!(target_endian = "little") {
            &['@', '=', '<']
        } else {
            &['@', '=', '>', '!']
        };
        let code = match format.as_bytes() {
            [c] => *c,
            [p, c] if native_prefix.contains(&(*p as char)) => *c,
            _ => return None,
        };
        let kind = match code {
            b'?' => b'b',
            b'b' | b'h' | b'i' | b'l' | b'q' | b'n' => b'i',
            b'B' | b'H' | b'I' | b'L' | b'Q' | b'N' => b'u',
            b'f' | b'd' => b'f',
            _ => return None,
        };
        Self::from_numpy(kind, size)
    }

    /// The type of an `__array_interface__` typestr (`"<f8"`, `"|b1"`), if it is in native
    /// byte order.
    pub fn from_typestr(typestr: &str) -> Option<ElemType> {
        let b = typestr.as_bytes();
        let (&order, &kind) = (b.first()?, b.get(1)?);
        let size: usize = typestr.get(2..)?.parse().ok()?;
        let native = match order {
            b'|' => size == 1,
            b'<' => cfg!(target_endian = "little"),
            b'>' => cfg!(target_endian = "big"),
            _ => false,
        };
        native.then(|| Self::from_numpy(kind, size)).flatten()
    }

    /// numpy's `__array_interface__` typestr of the type, in native byte order.
    pub fn typestr(self) -> String {
        let i = self.info();
        let order = match (i.size, cfg!(target_endian = "little")) {
            (1, _) => '|',
            (_, true) => '<',
            (_, false) => '>',
        };
        format!("{order}{}{}", i.kind as char, i.size)
    }

    /// The type of a DLPack `DLDataType` (`code`, `bits`, `lanes`), if the kernels read it.
    pub fn from_dlpack(code: u8, bits: u8, lanes: u16) -> Option<ElemType> {
        if lanes != 1 || bits % 8 != 0 {
            return None;
        }
        ELEMS
            .iter()
            .find(|i| i.dlpack_code == code && i.size * 8 == usize::from(bits))
            .map(|i| i.elem)
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

impl Values {
    /// The values at `idx`, in that order.
    pub(crate) fn gather(&self, idx: &[usize]) -> Values {
        use crate::broadcast::gather as pick;
        match self {
            Self::Bool(v) => Self::Bool(pick(v, idx)),
            Self::I8(v) => Self::I8(pick(v, idx)),
            Self::I16(v) => Self::I16(pick(v, idx)),
            Self::I32(v) => Self::I32(pick(v, idx)),
            Self::I64(v) => Self::I64(pick(v, idx)),
            Self::U8(v) => Self::U8(pick(v, idx)),
            Self::U16(v) => Self::U16(pick(v, idx)),
            Self::U32(v) => Self::U32(pick(v, idx)),
            Self::U64(v) => Self::U64(pick(v, idx)),
            Self::F32(v) => Self::F32(pick(v, idx)),
            Self::F64(v) => Self::F64(pick(v, idx)),
        }
    }

    /// The type of the values.
    pub fn elem(&self) -> ElemType {
        match self {
            Self::Bool(_) => ElemType::Bool,
            Self::I8(_) => ElemType::I8,
            Self::I16(_) => ElemType::I16,
            Self::I32(_) => ElemType::I32,
            Self::I64(_) => ElemType::I64,
            Self::U8(_) => ElemType::U8,
            Self::U16(_) => ElemType::U16,
            Self::U32(_) => ElemType::U32,
            Self::U64(_) => ElemType::U64,
            Self::F32(_) => ElemType::F32,
            Self::F64(_) => ElemType::F64,
        }
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        match self {
            Self::Bool(v) => v.len(),
            Self::I8(v) => v.len(),
            Self::I16(v) => v.len(),
            Self::I32(v) => v.len(),
            Self::I64(v) => v.len(),
            Self::U8(v) => v.len(),
            Self::U16(v) => v.len(),
            Self::U32(v) => v.len(),
            Self::U64(v) => v.len(),
            Self::F32(v) => v.len(),
            Self::F64(v) => v.len(),
        }
    }

    /// True if there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Of float values: whether any is NaN or of magnitude `limit` or more, and whether any
    /// is of magnitude `limit` or more (`(false, false)` for the other types). One pass at
    /// the SIMD level, without an early exit, so that it vectorises: the binding's check of
    /// every result for numpy's warnings, at the baseline's SSE2, was a ninth of a (4,
    /// 250000) f64 axis-0 sum.
    pub fn nonfinite_and_inf(&self, limit: f64) -> (bool, bool) {
        match self {
            Self::F32(v) => crate::simd::dispatch(crate::simd_level(), NonFinite { v, limit }),
            Self::F64(v) => crate::simd::dispatch(crate::simd_level(), NonFinite { v, limit }),
            _ => (false, false),
        }
    }
}

/// [`Values::nonfinite_and_inf`] of one float type, at a SIMD level.
struct NonFinite<'a, F> {
    v: &'a [F],
    limit: f64,
}

impl<F: Copy + Into<f64>> pulp::WithSimd for NonFinite<'_, F> {
    type Output = (bool, bool);

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) -> (bool, bool) {
        let (mut nonfinite, mut inf) = (false, false);
        for &x in self.v {
            let a = x.into().abs();
            // Float compares (NaN compares false: `!(a < limit)` is "beyond or NaN").
            #[allow(clippy::neg_cmp_op_on_partial_ord)]
            let bad = !(a < self.limit);
            nonfinite |= bad;
            inf |= a >= self.limit;
        }
        (nonfinite, inf)
    }
}

/// A type that results are returned in: it has a [`Values`] variant.
pub trait Value: Copy + Send + Sync + Debug + PartialEq + 'static + sealed::Sealed {
    /// The type as a value.
    const ELEM: ElemType;
    /// Wrap results of this type.
    fn into_values(v: Vec<Self>) -> Values;
    /// Unwrap results of this type (`None` if `v` holds another type).
    fn from_values(v: Values) -> Option<Vec<Self>>;
}

macro_rules! value {
    ($($t:ty => $v:ident),*) => {$(
        impl Value for $t {
            const ELEM: ElemType = ElemType::$v;
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
    /// numpy's dtype name (`"float64"`, `"int32"`, `"bool"`, ...).
    const NAME: &'static str = Self::ELEM.info().numpy;
    /// True for `f32` and `f64`: the sums use the compensated float kernel, and NaN exists.
    const IS_FLOAT: bool = Self::ELEM.is_float();
    /// The identity of `min` (the largest value; `+inf` for floats).
    const MIN_IDENTITY: Self;
    /// The identity of `max` (the smallest value; `-inf` for floats).
    const MAX_IDENTITY: Self;
    /// Zero (`false` for bool).
    const ZERO: Self;
    /// One (`true` for bool).
    const ONE: Self;
    /// NaN for floats; zero for the types without NaN.
    const NAN: Self;
    /// The value as `f64` (exact for every type but `i64`/`u64` beyond 2^53, as in numpy).
    fn to_f64(self) -> f64;
    /// True if the value is NaN (never for integers).
    fn is_nan(self) -> bool;
}

impl sealed::Sealed for f64 {
    #[inline(always)]
    fn nan_probe(self, x: Self) -> Self {
        self + x
    }
    #[inline(always)]
    unsafe fn arg_first<S: pulp::Simd, const MAX: bool>(
        simd: S,
        ptr: *const Self,
        len: usize,
    ) -> Option<(Self, u64)> {
        // SAFETY: forwarded from this function's contract.
        unsafe { crate::kernels::arg::first_f64::<S, MAX>(simd, ptr, len) }
    }
    type Flag = u64;
    type Tally = u64;
    const TALLY_MAX: u64 = u64::MAX;
    #[inline(always)]
    unsafe fn simd_zeros<S: pulp::Simd>(simd: S, ptr: *const Self, len: usize) -> Option<u64> {
        // SAFETY: forwarded from this function's contract.
        Some(unsafe { crate::kernels::count::zeros_f64(simd, ptr, len) })
    }
}
impl Element for f64 {
    type Sum = f64;
    type Mean = f64;
    const MIN_IDENTITY: Self = f64::INFINITY;
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const NAN: Self = f64::NAN;
    const MAX_IDENTITY: Self = f64::NEG_INFINITY;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        self.is_nan()
    }
}

impl sealed::Sealed for f32 {
    #[inline(always)]
    fn nan_probe(self, x: Self) -> Self {
        self + x
    }
    #[inline(always)]
    unsafe fn arg_first<S: pulp::Simd, const MAX: bool>(
        simd: S,
        ptr: *const Self,
        len: usize,
    ) -> Option<(Self, u64)> {
        // SAFETY: forwarded from this function's contract.
        unsafe { crate::kernels::arg::first_f32::<S, MAX>(simd, ptr, len) }
    }
    type Flag = u32;
    type Tally = u32;
    const TALLY_MAX: u64 = u32::MAX as u64;
    #[inline(always)]
    unsafe fn simd_zeros<S: pulp::Simd>(simd: S, ptr: *const Self, len: usize) -> Option<u64> {
        // SAFETY: forwarded from this function's contract.
        Some(unsafe { crate::kernels::count::zeros_f32(simd, ptr, len) })
    }
}
impl Element for f32 {
    type Sum = f32;
    type Mean = f32;
    const MIN_IDENTITY: Self = f32::INFINITY;
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const NAN: Self = f32::NAN;
    const MAX_IDENTITY: Self = f32::NEG_INFINITY;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        self.is_nan()
    }
}

/// The float element types: only their sums run in the compensated float kernel, so only
/// they instantiate it.
pub(crate) trait FloatElement: Element + crate::Value {
    /// `x` rounded to this type (to nearest, ties to even).
    fn from_f64(x: f64) -> Self;
}
impl FloatElement for f64 {
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
}
impl FloatElement for f32 {
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
}

/// The element types whose sums are exact: the integers, and bool's bytes ([`Bool8`]).
pub(crate) trait IntElement: Element {
    /// `(hi, lo)` with `value == hi * 2^32 + lo`, both summable in `i64` over 2^31 elements
    /// without overflow. Types of 32 bits or fewer return `(0, value)`.
    fn split(self) -> (i64, i64);
    /// For 64-bit types, what makes a value's bits an unsigned number: `2^63` for `i64`
    /// (`bits(x) ^ BIAS == x + 2^63`, in `0..2^64`), `0` for `u64`. Unused by narrower types.
    const BIAS: u64;
    /// The value whose bits are [`Self::BIAS`] (`i64::MIN`, `0u64`): it adds nothing to sums
    /// of `bits ^ BIAS`, so it pads short blocks.
    const BIASED_ZERO: Self;
    /// The value's two's-complement bits (`value ≡ bits (mod 2^64)`).
    fn bits(self) -> u64;
}

/// Integer types: what differs is only the sum type and whether the value needs splitting.
macro_rules! int_element {
    ($t:ty, $sum:ty, $wide:literal, $tally:ty, $zeros:ident $(, $first:ident)?) => {
        impl sealed::Sealed for $t {
            type Flag = u8;
            type Tally = $tally;
            const TALLY_MAX: u64 = <$tally>::MAX as u64;
            $(
            #[inline(always)]
            unsafe fn arg_first<S: pulp::Simd, const MAX: bool>(
                simd: S,
                ptr: *const Self,
                len: usize,
            ) -> Option<(Self, u64)> {
                // SAFETY: forwarded from this function's contract.
                unsafe { crate::kernels::arg::$first::<S, MAX>(simd, ptr, len) }
            }
            )?
            #[inline(always)]
            unsafe fn simd_zeros<S: pulp::Simd>(
                simd: S,
                ptr: *const Self,
                len: usize,
            ) -> Option<u64> {
                // The type's bits as the unsigned type of its width: zero exactly when the
                // value is (same size, any bits valid).
                // SAFETY: forwarded from this function's contract.
                unsafe { crate::kernels::count::$zeros(simd, ptr.cast(), len) }
            }
        }
        impl Element for $t {
            type Sum = $sum;
            type Mean = f64;
            const MIN_IDENTITY: Self = <$t>::MAX;
            const ZERO: Self = 0;
            const ONE: Self = 1;
            const NAN: Self = 0;
            const MAX_IDENTITY: Self = <$t>::MIN;
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                false
            }
        }
        impl IntElement for $t {
            #[inline(always)]
            fn split(self) -> (i64, i64) {
                if $wide {
                    // Arithmetic (signed) or logical (unsigned) shift: hi * 2^32 + lo == self.
                    ((self >> 32) as i64, (self as i64) & 0xffff_ffff)
                } else {
                    (0, self as i64)
                }
            }
            const BIAS: u64 = if $wide && <$t>::MIN != 0 { 1 << 63 } else { 0 };
            const BIASED_ZERO: Self = if $wide { <$t>::MIN } else { 0 };
            #[inline(always)]
            fn bits(self) -> u64 {
                self as u64
            }
        }
    };
}

int_element!(i8, i64, false, u8, zeros_u8);
int_element!(i16, i64, false, u16, zeros_u16);
int_element!(i32, i64, false, u32, zeros_u32, first_i32);
int_element!(i64, i64, true, u64, zeros_u64, first_i64);
int_element!(u8, u64, false, u8, zeros_u8);
int_element!(u16, u64, false, u16, zeros_u16);
int_element!(u32, u64, false, u32, zeros_u32, first_u32);
int_element!(u64, u64, true, u64, zeros_u64, first_u64);

impl sealed::Sealed for bool {
    type Flag = u8;
    type Tally = u8;
    const TALLY_MAX: u64 = u8::MAX as u64;
}
impl Element for bool {
    type Sum = i64;
    type Mean = f64;
    const MIN_IDENTITY: Self = true;
    const ZERO: Self = false;
    const ONE: Self = true;
    const NAN: Self = false;
    const MAX_IDENTITY: Self = false;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        false
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

impl sealed::Sealed for Bool8 {
    type Flag = u8;
    type Tally = u8;
    const TALLY_MAX: u64 = u8::MAX as u64;
}
/// Never used: min/max of bool run on `u8`; the impl only satisfies [`Element`]'s bound.
impl Value for Bool8 {
    const ELEM: ElemType = ElemType::Bool;
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
    const MIN_IDENTITY: Self = Bool8(u8::MAX);
    const ZERO: Self = Bool8(0);
    const ONE: Self = Bool8(1);
    const NAN: Self = Bool8(0);
    const MAX_IDENTITY: Self = Bool8(0);
    #[inline(always)]
    fn to_f64(self) -> f64 {
        (self.0 != 0) as u8 as f64
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        false
    }
}
impl IntElement for Bool8 {
    #[inline(always)]
    fn split(self) -> (i64, i64) {
        (0, (self.0 != 0) as i64)
    }
    const BIAS: u64 = 0;
    const BIASED_ZERO: Self = Bool8(0);
    #[inline(always)]
    fn bits(self) -> u64 {
        (self.0 != 0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonfinite_and_inf_finds_each_value_anywhere() {
        // Every special value alone at every position of lengths around the vector widths,
        // at every level here, against the plain scalar test, for both float types and the
        // limits the binding uses (float16's and float32's overflow edges, inf).
        let specials = [
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
            65520.0,
            -70000.0,
            3.5e38,
            1e300,
        ];
        for level in crate::available_simd_levels() {
            for len in [1, 7, 8, 9, 16, 17, 33] {
                for at in 0..len {
                    for &x in &specials {
                        for limit in [65520.0, 3.4028235677973366e38, f64::INFINITY] {
                            let mut v = vec![1.5f64; len];
                            v[at] = x;
                            let want = |v: &[f64]| {
                                let bad = v.iter().any(|a| a.is_nan() || a.abs() >= limit);
                                (bad, v.iter().any(|a| a.abs() >= limit))
                            };
                            let f = Values::F64(v.clone());
                            let got = crate::with_simd_level(level, || f.nonfinite_and_inf(limit));
                            assert_eq!(got, want(&v), "{level:?} f64 {len} {at} {x} {limit}");
                            let v32: Vec<f32> = v.iter().map(|&a| a as f32).collect();
                            let wide: Vec<f64> = v32.iter().map(|&a| f64::from(a)).collect();
                            let f = Values::F32(v32);
                            let got = crate::with_simd_level(level, || f.nonfinite_and_inf(limit));
                            assert_eq!(got, want(&wide), "{level:?} f32 {len} {at} {x} {limit}");
                        }
                    }
                }
                let clean = Values::F64(vec![-2.0; len]);
                assert_eq!(clean.nonfinite_and_inf(f64::INFINITY), (false, false));
            }
        }
        assert_eq!(
            Values::I64(vec![i64::MAX]).nonfinite_and_inf(0.0),
            (false, false)
        );
    }

    fn rebuild<T: IntElement>(x: T) -> i128 {
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
        assert_eq!(rebuild(Bool8(1)), 1);
        assert_eq!(rebuild(Bool8(255)), 1);
    }

    #[test]
    fn the_table_is_in_elem_order_and_agrees_with_the_rust_types() {
        for (i, e) in ElemType::ALL.into_iter().enumerate() {
            assert_eq!(e as usize, i);
            assert_eq!(e.info().elem, e);
            assert_eq!(ElemType::from_numpy(e.info().kind, e.size()), Some(e));
            assert_eq!(ElemType::from_typestr(&e.typestr()), Some(e));
            let bits = u8::try_from(e.size() * 8).unwrap();
            assert_eq!(
                ElemType::from_dlpack(e.info().dlpack_code, bits, 1),
                Some(e)
            );
            assert_eq!(ElemType::from_dlpack(e.info().dlpack_code, bits, 4), None);
        }
        fn agrees<T: Element>() {
            let e = T::ELEM;
            assert_eq!(e.size(), std::mem::size_of::<T>(), "{e:?}");
            assert_eq!(<T::Sum as Value>::ELEM, e.sum_type(), "{e:?}");
            assert_eq!(<T::Mean as Value>::ELEM, e.mean_type(), "{e:?}");
        }
        agrees::<bool>();
        agrees::<Bool8>();
        agrees::<i8>();
        agrees::<i16>();
        agrees::<i32>();
        agrees::<i64>();
        agrees::<u8>();
        agrees::<u16>();
        agrees::<u32>();
        agrees::<u64>();
        agrees::<f32>();
        agrees::<f64>();
    }

    #[test]
    fn foreign_descriptions() {
        let little = cfg!(target_endian = "little");
        assert_eq!(ElemType::from_format("d", 8), Some(ElemType::F64));
        assert_eq!(ElemType::from_format("=l", 8), Some(ElemType::I64));
        assert_eq!(ElemType::from_format("l", 4), Some(ElemType::I32));
        assert_eq!(ElemType::from_format("@B", 1), Some(ElemType::U8));
        assert_eq!(ElemType::from_format("?", 1), Some(ElemType::Bool));
        assert_eq!(ElemType::from_format("e", 2), None);
        assert_eq!(ElemType::from_format("Zd", 16), None);
        assert_eq!(ElemType::from_format("dd", 16), None);
        assert_eq!(ElemType::from_format(">d", 8).is_some(), !little);
        assert_eq!(ElemType::from_typestr("<f4").is_some(), little);
        assert_eq!(ElemType::from_typestr("|u1"), Some(ElemType::U8));
        assert_eq!(ElemType::from_typestr("|u2"), None);
        assert_eq!(ElemType::from_typestr("<c16"), None);
        assert_eq!(ElemType::from_typestr("<f"), None);
        assert_eq!(ElemType::from_dlpack(2, 16, 1), None);
        assert_eq!(ElemType::from_dlpack(6, 8, 1), Some(ElemType::Bool));
    }
}
