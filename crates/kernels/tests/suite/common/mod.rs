//! Test support: random strided views over random data, an exact float sum (the oracle) and a
//! scalar reference for every reduction, computed from the elements in logical order.
#![allow(dead_code)]

pub mod checks;

use stridewise::{dynamic, ElemType, Element, Family, Op, ReduceError, StridedView, Values};

/// Shewchuk's exactly rounded sum (Python's `math.fsum`): the high-precision oracle.
pub fn fsum(xs: impl IntoIterator<Item = f64>) -> f64 {
    let mut partials: Vec<f64> = Vec::new();
    let mut special = 0.0f64;
    for mut x in xs {
        if !x.is_finite() {
            special += x;
            continue;
        }
        let mut i = 0;
        for k in 0..partials.len() {
            let mut y = partials[k];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        partials.truncate(i);
        partials.push(x);
    }
    if special != 0.0 || special.is_nan() {
        return special;
    }
    // Sum the partials from the top, with the round-half-even correction of math.fsum.
    let mut n = partials.len();
    let mut hi = 0.0;
    if n > 0 {
        n -= 1;
        hi = partials[n];
        let mut lo = 0.0;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = partials[n];
            hi = x + y;
            let yr = hi - x;
            lo = y - yr;
            if lo != 0.0 {
                break;
            }
        }
        if n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            let yr = x - hi;
            if y == yr {
                hi = x;
            }
        }
    }
    hi
}

/// Distance in units in the last place of `b` (f64).
pub fn ulps(a: f64, b: f64) -> f64 {
    if a == b {
        return 0.0;
    }
    let ulp = if b == 0.0 {
        f64::MIN_POSITIVE
    } else {
        (b.abs() * f64::EPSILON).max(f64::MIN_POSITIVE)
    };
    // EPSILON * |b| is one ulp within a factor of two; use the exact spacing instead.
    let spacing = {
        let bits = b.abs().to_bits();
        f64::from_bits(bits + 1) - b.abs()
    };
    let _ = ulp;
    (a - b).abs() / spacing
}

/// Distance in f32 ulps of `b`.
pub fn ulps32(a: f32, b: f32) -> f64 {
    if a == b {
        return 0.0;
    }
    let spacing = f32::from_bits(b.abs().to_bits() + 1) - b.abs();
    ((a as f64 - b as f64).abs()) / spacing as f64
}

/// A small, fast, reproducible generator (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Element types the tests generate.
pub trait TestElem: Element {
    fn random(rng: &mut Rng) -> Self;
    /// NaN for floats, `None` for integers.
    fn nan() -> Option<Self>;
    fn inf() -> Option<Self>;
}

impl TestElem for f64 {
    fn random(rng: &mut Rng) -> Self {
        match rng.below(8) {
            0 => (rng.below(7) as f64) - 3.0,
            1 => (rng.unit() - 0.5) * 1e6,
            _ => rng.unit() * 2.0 - 1.0,
        }
    }
    fn nan() -> Option<Self> {
        Some(f64::NAN)
    }
    fn inf() -> Option<Self> {
        Some(f64::INFINITY)
    }
}

impl TestElem for f32 {
    fn random(rng: &mut Rng) -> Self {
        f64::random(rng) as f32
    }
    fn nan() -> Option<Self> {
        Some(f32::NAN)
    }
    fn inf() -> Option<Self> {
        Some(f32::INFINITY)
    }
}

macro_rules! test_int {
    ($($t:ty),*) => {$(
        impl TestElem for $t {
            fn random(rng: &mut Rng) -> Self {
                match rng.below(4) {
                    0 => <$t>::MAX,
                    1 => <$t>::MIN,
                    _ => rng.next() as $t,
                }
            }
            fn nan() -> Option<Self> { None }
            fn inf() -> Option<Self> { None }
        }
    )*};
}
test_int!(i8, i16, i32, i64, u8, u16, u32, u64);

impl TestElem for bool {
    fn random(rng: &mut Rng) -> Self {
        rng.below(2) == 1
    }
    fn nan() -> Option<Self> {
        None
    }
    fn inf() -> Option<Self> {
        None
    }
}

/// A random view: the data buffer and how to view it.
#[derive(Debug, Clone)]
pub struct Case<T> {
    pub data: Vec<T>,
    pub offset: usize,
    pub shape: Vec<usize>,
    pub strides: Vec<isize>,
}

impl<T: TestElem> Case<T> {
    pub fn view(&self) -> StridedView<'_, T> {
        StridedView::from_slice(&self.data, self.offset, &self.shape, &self.strides).unwrap()
    }

    /// Random rank 0..=max_rank, dims 0..=max_dim, steps 1..=3, reversed axes, broadcast axes,
    /// permuted axes, a leading pad of 0..=3 elements (so the base is misaligned), and
    /// optional NaN/inf sprinkled in.
    pub fn random(rng: &mut Rng, max_rank: usize, max_dim: usize, specials: bool) -> Self {
        let rank = rng.below(max_rank as u64 + 1) as usize;
        let shape: Vec<usize> = (0..rank)
            .map(|_| {
                if rng.below(12) == 0 {
                    0
                } else {
                    1 + rng.below(max_dim as u64) as usize
                }
            })
            .collect();
        let steps: Vec<usize> = (0..rank).map(|_| 1 + rng.below(3) as usize).collect();
        let bcast: Vec<bool> = (0..rank).map(|_| rng.below(8) == 0).collect();
        let rev: Vec<bool> = (0..rank).map(|_| rng.below(3) == 0).collect();
        // The parent array: each axis long enough for its step (1 if broadcast).
        let full: Vec<usize> = (0..rank)
            .map(|k| {
                if bcast[k] {
                    1
                } else {
                    (shape[k] * steps[k]).max(1)
                }
            })
            .collect();
        let cs = stridewise::layout::c_strides(&full);
        let pad = rng.below(4) as usize;
        let n: usize = full.iter().product::<usize>() + pad;
        let mut data: Vec<T> = (0..n).map(|_| T::random(rng)).collect();
        if specials && n > 0 {
            for _ in 0..rng.below(3) {
                let i = rng.below(n as u64) as usize;
                let v = if rng.below(2) == 0 {
                    T::nan()
                } else {
                    T::inf()
                };
                if let Some(v) = v {
                    data[i] = v;
                }
            }
        }
        let mut offset = pad as isize;
        let mut strides: Vec<isize> = Vec::with_capacity(rank);
        for k in 0..rank {
            let mut s = if bcast[k] {
                0
            } else {
                cs[k] * steps[k] as isize
            };
            if rev[k] && shape[k] > 0 {
                offset += s * (shape[k] as isize - 1);
                s = -s;
            }
            strides.push(s);
        }
        // Permute axes.
        let mut perm: Vec<usize> = (0..rank).collect();
        for i in (1..rank).rev() {
            perm.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
        let strides: Vec<isize> = perm.iter().map(|&p| strides[p]).collect();
        Self {
            data,
            offset: offset as usize,
            shape,
            strides,
        }
    }
}

/// The elements of a view in logical (C) order.
pub fn elements<T: Element>(v: &StridedView<'_, T>) -> Vec<T> {
    let n = v.len();
    let mut out = Vec::with_capacity(n);
    let shape = v.shape().to_vec();
    let mut idx = vec![0usize; shape.len()];
    for _ in 0..n {
        out.push(*v.get(&idx).unwrap());
        for k in (0..shape.len()).rev() {
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    out
}

/// Group the elements of a view by output index of a reduction over `axes` (sorted, unique):
/// (output shape, one Vec of elements per output in C order).
pub fn groups<T: Element>(v: &StridedView<'_, T>, axes: &[usize]) -> (Vec<usize>, Vec<Vec<T>>) {
    let shape = v.shape().to_vec();
    let kept: Vec<usize> = (0..shape.len()).filter(|k| !axes.contains(k)).collect();
    let out_shape: Vec<usize> = kept.iter().map(|&k| shape[k]).collect();
    let out_len: usize = out_shape.iter().product();
    let mut out = vec![Vec::new(); out_len];
    let n = v.len();
    let mut idx = vec![0usize; shape.len()];
    for _ in 0..n {
        let mut o = 0;
        for &k in &kept {
            o = o * shape[k] + idx[k];
        }
        out[o].push(*v.get(&idx).unwrap());
        for k in (0..shape.len()).rev() {
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    (out_shape, out)
}

/// Values as f64 for comparisons with a tolerance (exact types are compared as `Values`).
pub fn as_f64(v: &Values) -> Vec<f64> {
    match v {
        Values::F32(v) => v.iter().map(|&x| x as f64).collect(),
        Values::F64(v) => v.clone(),
        other => panic!("not a float result: {other:?}"),
    }
}

/// Two ways to the same reduction `op` of `T` elements agree: exact results (integer sums,
/// min/max) bitwise; float sums and means within the kernels' accuracy of each other (each
/// is within about one ulp of the exact value); variances to 1e-12 relative. NaN, warnings,
/// shapes and errors the same.
pub fn assert_agree<T: Element>(
    op: Op,
    what: &str,
    a: Result<dynamic::Outcome, ReduceError>,
    b: Result<dynamic::Outcome, ReduceError>,
) {
    let (a, b) = match (a, b) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            assert_eq!(a, b, "{what}");
            return;
        }
    };
    assert_eq!((&a.shape, a.warning), (&b.shape, b.warning), "{what}");
    let family = op.info().family;
    // min/max, counts and truth values are exact whatever the order.
    let exact = (!T::IS_FLOAT && family != Family::Var)
        || matches!(
            family,
            Family::Extreme | Family::CountNonzero | Family::Any | Family::All | Family::Arg
        );
    if exact {
        // As text: NaN equals NaN there, and the bits of every other value show.
        let (x, y) = (format!("{:?}", a.values), format!("{:?}", b.values));
        assert_eq!(x, y, "{what}");
        return;
    }
    let ulp = if T::ELEM == ElemType::F32 {
        f32::EPSILON as f64
    } else {
        f64::EPSILON
    };
    let tol = if family == Family::Var {
        1e-12_f64.max(4.0 * ulp)
    } else {
        2.5 * ulp
    };
    for (x, y) in as_f64(&a.values).into_iter().zip(as_f64(&b.values)) {
        let ok = x.to_bits() == y.to_bits()
            || (x.is_nan() && y.is_nan())
            || (x - y).abs() <= tol * x.abs().max(y.abs());
        assert!(ok, "{what}: {x:e} against {y:e}");
    }
}
