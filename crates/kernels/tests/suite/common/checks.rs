//! The checks shared by the property tests: every reduction of a view against the
//! scalar reference and the exact oracle, whole and over axes.
#![allow(dead_code)]

use super::*;
use stridewise::*;

/// What the tests need to read results of every type.
pub trait Check: TestElem {
    fn sum_f64(s: Self::Sum) -> f64;
    fn sum_i128(s: Self::Sum) -> i128;
    fn mean_f64(m: Self::Mean) -> f64;
    fn val_f64(self) -> f64;
    fn as_i128(self) -> i128;
    /// Wrap an exact integer sum like numpy (to the sum type's 64 bits).
    fn wrap(x: i128) -> i128;
}

macro_rules! check_float {
    ($t:ty) => {
        impl Check for $t {
            fn sum_f64(s: $t) -> f64 {
                s as f64
            }
            fn sum_i128(_: $t) -> i128 {
                unreachable!()
            }
            fn mean_f64(m: $t) -> f64 {
                m as f64
            }
            fn val_f64(self) -> f64 {
                self as f64
            }
            fn as_i128(self) -> i128 {
                unreachable!()
            }
            fn wrap(x: i128) -> i128 {
                x
            }
        }
    };
}
check_float!(f64);
check_float!(f32);

macro_rules! check_int {
    ($t:ty, $sum:ty) => {
        impl Check for $t {
            fn sum_f64(s: $sum) -> f64 {
                s as f64
            }
            fn sum_i128(s: $sum) -> i128 {
                s as i128
            }
            fn mean_f64(m: f64) -> f64 {
                m
            }
            fn val_f64(self) -> f64 {
                self as f64
            }
            fn as_i128(self) -> i128 {
                self as i128
            }
            fn wrap(x: i128) -> i128 {
                x as $sum as i128
            }
        }
    };
}
check_int!(i8, i64);
check_int!(i16, i64);
check_int!(i32, i64);
check_int!(i64, i64);
check_int!(u8, u64);
check_int!(u16, u64);
check_int!(u32, u64);
check_int!(u64, u64);

impl Check for bool {
    fn sum_f64(s: i64) -> f64 {
        s as f64
    }
    fn sum_i128(s: i64) -> i128 {
        s as i128
    }
    fn mean_f64(m: f64) -> f64 {
        m
    }
    fn val_f64(self) -> f64 {
        self as u8 as f64
    }
    fn as_i128(self) -> i128 {
        self as i128
    }
    fn wrap(x: i128) -> i128 {
        x as i64 as i128
    }
}

fn is_f32<T: Element>() -> bool {
    T::NAME == "float32"
}

/// Allowed error of a float sum/mean of `xs`, whose exact value is `exact`.
fn sum_tol<T: Element>(xs: &[f64], exact: f64) -> f64 {
    let abs: f64 = xs.iter().map(|x| x.abs()).sum();
    let ulp = if is_f32::<T>() {
        (exact.abs() as f32 * f32::EPSILON) as f64
    } else {
        exact.abs() * f64::EPSILON
    };
    // One rounding of the result plus the blocked scheme's worst case (32 plain adds per fold).
    ulp + 64.0 * f64::EPSILON * abs + f64::MIN_POSITIVE
}

fn close(got: f64, want: f64, tol: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if want.is_infinite() {
        return got == want;
    }
    (got - want).abs() <= tol
}

fn check_sum<T: Check, const IGNORE: bool>(xs: &[T], got: T::Sum, what: &str) {
    if T::IS_FLOAT {
        let vals: Vec<f64> = xs
            .iter()
            .map(|x| x.val_f64())
            .filter(|x| !(IGNORE && x.is_nan()))
            .collect();
        let exact = fsum(vals.iter().copied());
        let want = if is_f32::<T>() {
            exact as f32 as f64
        } else {
            exact
        };
        let g = T::sum_f64(got);
        assert!(
            close(g, want, sum_tol::<T>(&vals, exact)),
            "{what}: sum {g} want {want} ({} elements)",
            xs.len()
        );
    } else {
        let exact: i128 = xs.iter().map(|x| x.as_i128()).sum();
        assert_eq!(T::sum_i128(got), T::wrap(exact), "{what}: integer sum");
    }
}

fn check_mean<T: Check, const IGNORE: bool>(xs: &[T], got: Reduced<T::Mean>, what: &str) {
    let vals: Vec<f64> = xs
        .iter()
        .map(|x| x.val_f64())
        .filter(|x| !(IGNORE && x.is_nan()))
        .collect();
    let g = T::mean_f64(got.value);
    if vals.is_empty() {
        assert!(g.is_nan(), "{what}: mean of empty must be NaN");
        assert_eq!(got.warning, Some(Warning::MeanOfEmptySlice), "{what}");
        return;
    }
    assert_eq!(got.warning, None, "{what}");
    let n = vals.len() as f64;
    let exact = if T::IS_FLOAT {
        fsum(vals.iter().copied()) / n
    } else {
        xs.iter().map(|x| x.as_i128()).sum::<i128>() as f64 / n
    };
    let want = if is_f32::<T>() {
        exact as f32 as f64
    } else {
        exact
    };
    let tol = sum_tol::<T>(&vals, exact * n) / n + want.abs() * f64::EPSILON;
    assert!(close(g, want, tol), "{what}: mean {g} want {want}");
}

fn check_var<T: Check, const IGNORE: bool>(
    xs: &[T],
    got: Reduced<T::Mean>,
    ddof: f64,
    sqrt: bool,
    what: &str,
) {
    let vals: Vec<f64> = xs
        .iter()
        .map(|x| x.val_f64())
        .filter(|x| !(IGNORE && x.is_nan()))
        .collect();
    let n = vals.len() as f64;
    let g = T::mean_f64(got.value);
    assert_eq!(
        got.warning,
        (n - ddof <= 0.0).then_some(Warning::DegreesOfFreedom),
        "{what}: warning"
    );
    if vals.is_empty() || (IGNORE && T::IS_FLOAT && n - ddof <= 0.0) {
        assert!(
            g.is_nan(),
            "{what}: var of empty, or nanvar without degrees of freedom"
        );
        return;
    }
    if vals.iter().any(|x| !x.is_finite()) {
        assert!(g.is_nan(), "{what}: var with NaN/inf must be NaN, got {g}");
        return;
    }
    let mean = fsum(vals.iter().copied()) / n;
    let m2 = fsum(vals.iter().map(|x| (x - mean) * (x - mean)));
    let mut want = m2 / (n - ddof).max(0.0);
    if sqrt {
        want = want.sqrt();
    }
    if want.is_nan() || want.is_infinite() {
        assert!(
            g.is_nan() == want.is_nan() && (want.is_nan() || g.is_infinite() || g > 1e300),
            "{what}: var {g} want {want}"
        );
        return;
    }
    let scale = vals.iter().map(|x| x * x).fold(0.0, f64::max);
    let (rel, abs) = if is_f32::<T>() {
        (2e-6, 1e-7 * scale)
    } else {
        (1e-11, 1e-14 * scale)
    };
    let abs = if sqrt { abs.sqrt() } else { abs };
    assert!(
        (g - want).abs() <= rel * want.abs() + abs,
        "{what}: var {g} want {want} (n {n}, ddof {ddof})"
    );
}

fn check_extreme<T: Check, const IGNORE: bool, const MAX: bool>(
    xs: &[T],
    got: Result<Reduced<T>, ReduceError>,
    what: &str,
) {
    if xs.is_empty() {
        assert!(
            matches!(got, Err(ReduceError::EmptyMinMax { .. })),
            "{what}: empty min/max must fail"
        );
        return;
    }
    let got = got.unwrap();
    let vals: Vec<T> = xs
        .iter()
        .copied()
        .filter(|x| !(IGNORE && x.is_nan()))
        .collect();
    if IGNORE && vals.is_empty() {
        assert!(got.value.is_nan(), "{what}: all-NaN");
        assert_eq!(got.warning, Some(Warning::AllNanSlice), "{what}");
        return;
    }
    assert_eq!(got.warning, None, "{what}");
    if !IGNORE && vals.iter().any(|x| x.is_nan()) {
        assert!(got.value.is_nan(), "{what}: NaN must propagate");
        return;
    }
    let mut best = vals[0];
    for &x in &vals[1..] {
        if (MAX && x > best) || (!MAX && x < best) {
            best = x;
        }
    }
    assert!(
        got.value == best,
        "{what}: got {:?} want {best:?}",
        got.value
    );
}

/// The reference product of `xs` as an f64 mantissa in [1, 2) and an exponent, one rounding
/// per element (so within `n` f64 ulps of the exact product), NaN / ±0 / ±inf as IEEE
/// multiplication gives them with an unbounded exponent range; nan-functions skip NaN.
fn reference_prod<const IGNORE: bool>(xs: &[f64]) -> f64 {
    let (mut m, mut e, mut zero, mut inf, mut nan) = (1.0f64, 0i64, false, false, false);
    for &x in xs {
        if x.is_nan() {
            nan |= !IGNORE;
            continue;
        }
        zero |= x == 0.0;
        inf |= x.is_infinite();
        if x == 0.0 || x.is_infinite() {
            m = if x.is_sign_negative() { -m } else { m };
            continue;
        }
        // x = f * 2^k with 0.5 <= |f| < 1 (via the exponent of |x| scaled by 2^64 if small).
        let (mut f, mut k) = (x, 0i64);
        while f.abs() < 1.0 {
            f *= 2.0;
            k -= 1;
        }
        while f.abs() >= 2.0 {
            f /= 2.0;
            k += 1;
        }
        m *= f;
        e += k;
        while m.abs() >= 2.0 {
            m /= 2.0;
            e += 1;
        }
    }
    if nan || (zero && inf) {
        return f64::NAN;
    }
    let signed = |v: f64| if m < 0.0 { -v } else { v };
    if zero {
        return signed(0.0);
    }
    if inf {
        return signed(f64::INFINITY);
    }
    let mut v = m;
    let mut e = e.clamp(-3000, 3000);
    while e > 0 {
        v *= 2.0;
        e -= 1;
    }
    while e < 0 {
        // Halving is exact until the subnormal range, where the reference rounds more than
        // once: the tolerance below covers it.
        v /= 2.0;
        e += 1;
    }
    v
}

/// A product against the reference: integers exactly (modulo 2^64, in the sum type), floats
/// within `2n + 2` ulps of the result type (the reference's own error included), zero, inf
/// and NaN exactly, signs included.
fn check_prod<T: Check, const IGNORE: bool>(xs: &[T], got: T::Sum, what: &str) {
    if !T::IS_FLOAT {
        let exact = xs
            .iter()
            .fold(1u64, |a, x| a.wrapping_mul(x.as_i128() as u64));
        assert_eq!(T::sum_i128(got) as u64, exact, "{what}: integer product");
        return;
    }
    let vals: Vec<f64> = xs.iter().map(|x| x.val_f64()).collect();
    let want = reference_prod::<IGNORE>(&vals);
    let want = if is_f32::<T>() {
        want as f32 as f64
    } else {
        want
    };
    let g = T::sum_f64(got);
    let ulp = if is_f32::<T>() {
        f32::EPSILON as f64
    } else {
        f64::EPSILON
    };
    let tiny = if is_f32::<T>() {
        f32::MIN_POSITIVE as f64
    } else {
        f64::MIN_POSITIVE
    };
    let big = if is_f32::<T>() {
        f32::MAX as f64
    } else {
        f64::MAX
    };
    let ok = if want.is_nan() {
        g.is_nan()
    } else if want.is_infinite() {
        g == want || (g.abs() > 0.5 * big && g.signum() == want.signum())
    } else if want == 0.0 {
        g.abs() <= tiny && g.is_sign_negative() == want.is_sign_negative()
    } else {
        let tol = (2 * vals.len() + 2) as f64 * ulp * want.abs() + tiny;
        (g - want).abs() <= tol || (g.is_infinite() && want.abs() > 0.5 * big)
    };
    assert!(
        ok,
        "{what}: product {g:e} want {want:e} ({} elements)",
        xs.len()
    );
}

/// All results of one view, rendered for the bitwise cross-level comparison.
fn run_all<T: Check>(v: &StridedView<'_, T>, axes: &[isize], resolved: &[usize]) -> String {
    let xs = elements(v);
    let mut log = String::new();
    check_sum::<T, false>(&xs, sum(v), "sum");
    check_sum::<T, true>(&xs, nansum(v), "nansum");
    check_mean::<T, false>(&xs, mean(v), "mean");
    check_mean::<T, true>(&xs, nanmean(v), "nanmean");
    for ddof in [0.0, 1.0] {
        check_var::<T, false>(&xs, var(v, ddof), ddof, false, "var");
        check_var::<T, false>(&xs, std(v, ddof), ddof, true, "std");
        check_var::<T, true>(&xs, nanvar(v, ddof), ddof, false, "nanvar");
        check_var::<T, true>(&xs, nanstd(v, ddof), ddof, true, "nanstd");
    }
    let as_reduced = |r: Result<T, ReduceError>| {
        r.map(|value| Reduced {
            value,
            warning: None,
        })
    };
    check_extreme::<T, false, false>(&xs, as_reduced(min(v)), "min");
    check_extreme::<T, false, true>(&xs, as_reduced(max(v)), "max");
    check_extreme::<T, true, false>(&xs, nanmin(v), "nanmin");
    check_extreme::<T, true, true>(&xs, nanmax(v), "nanmax");
    check_prod::<T, false>(&xs, prod(v), "prod");
    check_prod::<T, true>(&xs, nanprod(v), "nanprod");
    log += &format!("{:?} {:?}\n", prod(v), nanprod(v));
    log += &format!(
        "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}\n",
        sum(v),
        nansum(v),
        mean(v),
        nanmean(v),
        var(v, 1.0),
        nanstd(v, 0.0),
        min(v),
        nanmax(v)
    );

    // Over axes: each output against the reference of its group.
    let (out_shape, groups) = groups(v, resolved);
    let red_empty = resolved.iter().any(|&a| v.shape()[a] == 0);
    let r = sum_axes(v, axes).unwrap();
    assert_eq!(r.shape, out_shape);
    for (g, &s) in groups.iter().zip(&r.data) {
        check_sum::<T, false>(g, s, "sum_axes");
    }
    let r = nansum_axes(v, axes).unwrap();
    for (g, &s) in groups.iter().zip(&r.data) {
        check_sum::<T, true>(g, s, "nansum_axes");
    }
    let r = mean_axes(v, axes).unwrap();
    assert_eq!(r.data.len(), groups.len());
    for (g, &m) in groups.iter().zip(&r.data) {
        let w = g.is_empty().then_some(Warning::MeanOfEmptySlice);
        check_mean::<T, false>(
            g,
            Reduced {
                value: m,
                warning: w,
            },
            "mean_axes",
        );
    }
    let r = nanmean_axes(v, axes).unwrap();
    for (g, &m) in groups.iter().zip(&r.data) {
        let empty = g.iter().all(|x| x.is_nan());
        let w = empty.then_some(Warning::MeanOfEmptySlice);
        check_mean::<T, true>(
            g,
            Reduced {
                value: m,
                warning: w,
            },
            "nanmean_axes",
        );
        if empty {
            assert_eq!(r.warning, Some(Warning::MeanOfEmptySlice));
        }
    }
    for (ddof, sqrt) in [(0.0, false), (1.0, true)] {
        let r = if sqrt {
            std_axes(v, axes, ddof)
        } else {
            var_axes(v, axes, ddof)
        }
        .unwrap();
        for (g, &x) in groups.iter().zip(&r.data) {
            let w = (g.len() as f64 - ddof <= 0.0).then_some(Warning::DegreesOfFreedom);
            check_var::<T, false>(
                g,
                Reduced {
                    value: x,
                    warning: w,
                },
                ddof,
                sqrt,
                "var_axes",
            );
        }
        let r = nanvar_axes(v, axes, ddof).unwrap();
        for (g, &x) in groups.iter().zip(&r.data) {
            let n = g.iter().filter(|x| !x.is_nan()).count() as f64;
            let w = (n - ddof <= 0.0).then_some(Warning::DegreesOfFreedom);
            check_var::<T, true>(
                g,
                Reduced {
                    value: x,
                    warning: w,
                },
                ddof,
                false,
                "nanvar_axes",
            );
        }
        log += &format!("{:?}\n", r.data);
    }
    let mins = min_axes(v, axes);
    let nanmaxs = nanmax_axes(v, axes);
    if red_empty {
        assert!(matches!(mins, Err(ReduceError::EmptyMinMax { .. })));
        assert!(matches!(nanmaxs, Err(ReduceError::EmptyMinMax { .. })));
    } else {
        let mins = mins.unwrap();
        let nanmaxs = nanmaxs.unwrap();
        for (g, &x) in groups.iter().zip(&mins.data) {
            check_extreme::<T, false, false>(
                g,
                Ok(Reduced {
                    value: x,
                    warning: None,
                }),
                "min_axes",
            );
        }
        for (g, &x) in groups.iter().zip(&nanmaxs.data) {
            let w = (!g.is_empty() && g.iter().all(|x| x.is_nan())).then_some(Warning::AllNanSlice);
            check_extreme::<T, true, true>(
                g,
                Ok(Reduced {
                    value: x,
                    warning: w,
                }),
                "nanmax_axes",
            );
        }
        log += &format!("{:?} {:?}\n", mins.data, nanmaxs.data);
    }
    let r = prod_axes(v, axes).unwrap();
    assert_eq!(r.shape, out_shape);
    for (g, &p) in groups.iter().zip(&r.data) {
        check_prod::<T, false>(g, p, "prod_axes");
    }
    let n = nanprod_axes(v, axes).unwrap();
    for (g, &p) in groups.iter().zip(&n.data) {
        check_prod::<T, true>(g, p, "nanprod_axes");
    }
    log += &format!("{:?} {:?}\n", r.data, n.data);
    log += &format!("{:?}\n", sum_axes(v, axes).unwrap().data);
    log += &format!("{:?}\n", mean_axes(v, axes).unwrap().data);
    log
}

fn random_axes(rng: &mut Rng, ndim: usize) -> (Vec<isize>, Vec<usize>) {
    let mut axes = Vec::new();
    let mut resolved = Vec::new();
    for k in 0..ndim {
        if rng.below(2) == 0 {
            resolved.push(k);
            axes.push(if rng.below(2) == 0 {
                k as isize
            } else {
                k as isize - ndim as isize
            });
        }
    }
    (axes, resolved)
}

pub fn property<T: Check>(seed: u64, cases: usize, max_dim: usize) {
    let mut rng = Rng(seed);
    for case in 0..cases {
        let specials = rng.below(3) == 0;
        let c = Case::<T>::random(&mut rng, 5, max_dim, specials);
        let v = c.view();
        let (axes, resolved) = random_axes(&mut rng, v.ndim());
        check_view(&v, &axes, &resolved, &format!("case {case}"));
    }
}

/// Every reduction of `v`, whole and over `axes` (`resolved`: the same, non-negative and
/// sorted), against the references, at every SIMD level the machine has; the results of
/// all levels must be bitwise identical.
pub fn check_view<T: Check>(
    v: &StridedView<'_, T>,
    axes: &[isize],
    resolved: &[usize],
    what: &str,
) {
    let mut first: Option<String> = None;
    for level in available_simd_levels() {
        let log = with_simd_level(level, || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_all(v, axes, resolved)))
                .unwrap_or_else(|e| {
                    panic!(
                        "{} {what} level {level:?} shape {:?} strides {:?} axes {axes:?}: {}",
                        T::NAME,
                        v.shape(),
                        v.strides(),
                        e.downcast_ref::<String>().cloned().unwrap_or_default()
                    )
                })
        });
        match &first {
            None => first = Some(log),
            Some(f) => assert_eq!(f, &log, "{} {what}: {level:?} differs from scalar", T::NAME),
        }
    }
}
