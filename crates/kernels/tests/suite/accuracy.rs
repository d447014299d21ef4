//! Accuracy against exact answers, at every SIMD level: 1 ulp on well-conditioned data of any
//! size and layout, never worse than pairwise summation on ill-conditioned data, stable
//! variance, exact integer sums at the limits.

use crate::common::*;
use stridewise::*;

fn each_level(f: impl Fn(SimdLevel)) {
    for level in available_simd_levels() {
        with_simd_level(level, || f(level));
    }
}

fn positive(n: usize, seed: u64) -> Vec<f64> {
    let mut r = Rng(seed);
    (0..n).map(|_| r.unit() + 1e-3).collect()
}

/// numpy's summation: pairwise with an 8-way unrolled base case of 128 elements.
fn numpy_pairwise(x: &[f64]) -> f64 {
    if x.len() < 8 {
        return x.iter().fold(0.0, |a, &b| a + b);
    }
    if x.len() <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&x[..8]);
        let mut i = 8;
        while i + 8 <= x.len() {
            for j in 0..8 {
                r[j] += x[i + j];
            }
            i += 8;
        }
        let mut s = (r[0] + r[1]) + (r[2] + r[3]) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &x[i..] {
            s += v;
        }
        return s;
    }
    let mut half = x.len() / 2;
    half -= half % 8;
    numpy_pairwise(&x[..half]) + numpy_pairwise(&x[half..])
}

#[test]
fn f64_sum_within_one_ulp_on_well_conditioned_data() {
    for (n, seed) in [
        (1usize, 1u64),
        (31, 2),
        (1000, 3),
        (100_003, 4),
        (3_000_001, 5),
    ] {
        let x = positive(n, seed);
        let exact = fsum(x.iter().copied());
        each_level(|level| {
            let v = StridedView::from_1d(&x);
            let s = sum(&v);
            assert!(ulps(s, exact) <= 1.0, "n {n} {level:?}: {s} vs {exact}");
            let m = mean(&v).value;
            assert!(ulps(m, exact / n as f64) <= 1.0, "mean n {n} {level:?}");
        });
    }
}

#[test]
fn f32_sum_within_one_ulp_on_well_conditioned_data() {
    for (n, seed) in [(17usize, 6u64), (100_000, 7), (2_000_000, 8)] {
        let x: Vec<f32> = positive(n, seed).iter().map(|&v| v as f32).collect();
        let exact = fsum(x.iter().map(|&v| v as f64));
        each_level(|level| {
            let v = StridedView::from_1d(&x);
            assert!(ulps32(sum(&v), exact as f32) <= 1.0, "n {n} {level:?}");
            let m = mean(&v).value;
            assert!(
                ulps32(m, (exact / n as f64) as f32) <= 1.0,
                "mean n {n} {level:?}"
            );
        });
    }
}

#[test]
fn every_layout_and_axis_within_one_ulp() {
    let (r, c) = (1000usize, 1001usize);
    let x = positive(r * c, 9);
    let full = StridedView::contiguous(&x, &[r, c]).unwrap();
    let views = [
        ("contiguous", full.clone()),
        ("transposed", full.permuted(&[1, 0]).unwrap()),
        ("reversed", full.sliced(0, r - 1, usize::MAX, -1).unwrap()),
        ("padded", full.sliced(1, 0, c - 1, 1).unwrap()),
        ("step2", full.sliced(1, 0, c, 2).unwrap()),
        (
            "both steps",
            full.sliced(0, 0, r, 3).unwrap().sliced(1, 1, c, 2).unwrap(),
        ),
    ];
    each_level(|level| {
        for (name, v) in &views {
            let xs = elements(v);
            let exact = fsum(xs.iter().copied());
            assert!(ulps(sum(v), exact) <= 1.0, "{name} {level:?}");
            for axis in [0usize, 1] {
                let (_, groups) = groups(v, &[axis]);
                let got = sum_axes(v, &[axis as isize]).unwrap();
                for (g, &s) in groups.iter().zip(&got.data) {
                    let e = fsum(g.iter().copied());
                    assert!(
                        ulps(s, e) <= 1.0,
                        "{name} axis {axis} {level:?}: {s} vs {e}"
                    );
                }
            }
        }
    });
}

#[test]
fn never_worse_than_pairwise_on_ill_conditioned_data() {
    for seed in 0..20u64 {
        let mut r = Rng(seed + 100);
        let n = 10_000 + r.below(50_000) as usize;
        // Large terms that nearly cancel, plus small ones: condition number ~1e12.
        let x: Vec<f64> = (0..n)
            .map(|i| {
                let big = (r.unit() - 0.5) * 1e12;
                if i % 2 == 0 {
                    big
                } else {
                    -big + r.unit()
                }
            })
            .collect();
        let exact = fsum(x.iter().copied());
        let pairwise_err = (numpy_pairwise(&x) - exact).abs();
        each_level(|level| {
            let err = (sum(&StridedView::from_1d(&x)) - exact).abs();
            assert!(
                err <= pairwise_err.max(exact.abs() * f64::EPSILON),
                "seed {seed} {level:?}: error {err} vs pairwise {pairwise_err}"
            );
        });
    }
}

#[test]
fn known_exact_answers() {
    each_level(|_| {
        let x = [1e16, 1.0, -1e16];
        assert_eq!(sum(&StridedView::from_1d(&x)), 1.0);
        let y = vec![0.1f64; 10_000_000];
        assert_eq!(sum(&StridedView::from_1d(&y)), fsum(y.iter().copied()));
        let z = [f64::INFINITY, 1.0, 2.0];
        assert_eq!(sum(&StridedView::from_1d(&z)), f64::INFINITY);
        let w = [f64::INFINITY, f64::NEG_INFINITY];
        assert!(sum(&StridedView::from_1d(&w)).is_nan());
        let big = [f64::MAX, f64::MAX];
        assert_eq!(sum(&StridedView::from_1d(&big)), f64::INFINITY);
    });
}

#[test]
fn variance_is_stable_under_a_large_offset() {
    // x = 1e9 + k, k = 0..n-1: var = (n^2 - 1) / 12 exactly; E[x^2] - E[x]^2 loses it all.
    for n in [10usize, 1000, 100_000] {
        let x: Vec<f64> = (0..n).map(|k| 1e9 + k as f64).collect();
        let want = ((n * n - 1) as f64) / 12.0;
        each_level(|level| {
            let v = var(&StridedView::from_1d(&x), 0.0).value;
            assert!(
                ((v - want) / want).abs() < 1e-12,
                "n {n} {level:?}: {v} vs {want}"
            );
            if n < 100 {
                return;
            }
            let m = StridedView::contiguous(&x, &[n / 10, 10]).unwrap();
            let by_col = var_axes(&m, &[0], 0.0).unwrap();
            let k = (n / 10) as f64;
            let col_want = 100.0 * (k * k - 1.0) / 12.0;
            for &c in &by_col.data {
                assert!(
                    ((c - col_want) / col_want).abs() < 1e-10,
                    "axis0 n {n}: {c}"
                );
            }
        });
    }
}

#[test]
fn integers_at_their_limits() {
    each_level(|_| {
        let a = [i64::MAX; 3];
        let v = StridedView::from_1d(&a);
        assert_eq!(sum(&v), (3 * i64::MAX as i128) as i64, "wraps like numpy");
        assert_eq!(mean(&v).value, i64::MAX as f64);
        let b = [i64::MIN, i64::MIN, i64::MAX];
        assert_eq!(
            mean(&StridedView::from_1d(&b)).value,
            (i64::MIN as f64) / 3.0
        );
        let c = [u64::MAX, 1];
        assert_eq!(sum(&StridedView::from_1d(&c)), 0);
        assert_eq!(mean(&StridedView::from_1d(&c)).value, 2f64.powi(63));
        let d: Vec<u8> = vec![255; 100_000];
        assert_eq!(sum(&StridedView::from_1d(&d)), 25_500_000u64);
        let e: Vec<i32> = vec![i32::MIN; 1 << 20];
        assert_eq!(sum(&StridedView::from_1d(&e)), i32::MIN as i64 * (1 << 20));
        assert_eq!(min(&StridedView::from_1d(&e)), Ok(i32::MIN));
        // The largest 32-bit values, whole (full lanes) and in short rows (padded blocks).
        let g: Vec<u32> = vec![u32::MAX; 1 << 20];
        assert_eq!(sum(&StridedView::from_1d(&g)), u32::MAX as u64 * (1 << 20));
        let rows = StridedView::contiguous(&g[..37 * 1000], &[1000, 37]).unwrap();
        let r = sum_axes(&rows, &[1]).unwrap();
        assert!(r.data.iter().all(|&s| s == 37 * u32::MAX as u64));
        let f = [true, false, true];
        assert_eq!(sum(&StridedView::from_1d(&f)), 2i64);
        assert_eq!(max(&StridedView::from_1d(&f)), Ok(true));
        assert_eq!(min(&StridedView::from_1d(&f)), Ok(false));
    });
}

#[test]
fn empty_and_zero_dimensional() {
    let x = [5.0f64];
    let scalar = StridedView::from_slice(&x, 0, &[], &[]).unwrap();
    assert_eq!(sum(&scalar), 5.0);
    assert_eq!(mean(&scalar).value, 5.0);
    assert_eq!(var(&scalar, 0.0).value, 0.0);
    assert_eq!(min(&scalar), Ok(5.0));
    let r = var(&scalar, 1.0);
    assert!(r.value.is_nan());
    assert_eq!(r.warning, Some(Warning::DegreesOfFreedom));

    let empty: [f64; 0] = [];
    let e = StridedView::from_slice(&empty, 0, &[0, 3], &[3, 1]).unwrap();
    assert_eq!(sum(&e), 0.0);
    assert_eq!(mean(&e).warning, Some(Warning::MeanOfEmptySlice));
    assert!(mean(&e).value.is_nan());
    assert_eq!(min(&e), Err(ReduceError::EmptyMinMax { op: "minimum" }));
    assert_eq!(
        max_axes(&e, &[0]),
        Err(ReduceError::EmptyMinMax { op: "maximum" })
    );
    // Reducing the non-empty axis of an empty array gives an empty result, no error.
    let r = min_axes(&e, &[1]).unwrap();
    assert_eq!((r.shape, r.data.len()), (vec![0], 0));
    let m = mean_axes(&e, &[0]).unwrap();
    assert_eq!(m.shape, vec![3]);
    assert!(m.data.iter().all(|x| x.is_nan()));
    assert_eq!(m.warning, Some(Warning::MeanOfEmptySlice));
    assert_eq!(
        sum_axes(&e, &[2]),
        Err(ReduceError::Layout(LayoutError::AxisOutOfBounds {
            axis: 2,
            ndim: 2
        }))
    );
    assert_eq!(
        sum_axes(&e, &[0, -2]),
        Err(ReduceError::Layout(LayoutError::DuplicateAxis(0)))
    );
    let all = sum_axes(&scalar, &[]).unwrap();
    assert_eq!((all.shape, all.data), (vec![], vec![5.0]));
}

#[test]
fn nan_policies() {
    let x = [1.0, f64::NAN, 3.0];
    let v = StridedView::from_1d(&x);
    assert!(sum(&v).is_nan());
    assert_eq!(nansum(&v), 4.0);
    assert_eq!(nanmean(&v).value, 2.0);
    assert!(min(&v).unwrap().is_nan());
    assert!(max(&v).unwrap().is_nan());
    assert_eq!(nanmin(&v).unwrap().value, 1.0);
    assert_eq!(nanmax(&v).unwrap().value, 3.0);
    assert_eq!(nanvar(&v, 0.0).value, 1.0);
    let all_nan = [f64::NAN; 40];
    let a = StridedView::from_1d(&all_nan);
    assert_eq!(nanmin(&a).unwrap().warning, Some(Warning::AllNanSlice));
    assert_eq!(nanmean(&a).warning, Some(Warning::MeanOfEmptySlice));
    assert_eq!(nanvar(&a, 0.0).warning, Some(Warning::DegreesOfFreedom));
    assert_eq!(nansum(&a), 0.0);
    // numpy: var([1, 2], ddof=2) is inf (M2 / 0), nanvar of the same is NaN.
    let two = [1.0f64, 2.0];
    let t = StridedView::from_1d(&two);
    assert_eq!(var(&t, 2.0).value, f64::INFINITY);
    assert!(nanvar(&t, 2.0).value.is_nan());
    assert_eq!(nanvar(&t, 2.0).warning, Some(Warning::DegreesOfFreedom));
}

#[test]
fn reducing_every_axis_equals_the_whole_reduction() {
    // Between one and two work units: the axis path must cut the same units.
    let x: Vec<f64> = (0..50_000).map(|i| 1.0 / (1.0 + i as f64)).collect();
    let v = StridedView::contiguous(&x, &[100, 500]).unwrap();
    each_level(|_| {
        assert_eq!(sum_axes(&v, &[0, 1]).unwrap().data, vec![sum(&v)]);
        assert_eq!(
            var_axes(&v, &[1, 0], 1.0).unwrap().data,
            vec![var(&v, 1.0).value]
        );
    });
}

/// The exact sums of 64-bit integers (the `i128` states that `mean` divides; `sum`'s, right
/// modulo 2^64), against `i128` arithmetic: extremes and random values in random layouts (padded short rows, strided,
/// reversed, broadcast), every axis subset, every SIMD level, one thread and three.
fn exact_wide_sums<T: TestElem + Into<i128>>(seed: u64, extremes: [T; 2]) {
    let mut rng = Rng(seed);
    let mut cases: Vec<Case<T>> = (0..40)
        .map(|_| Case::random(&mut rng, 3, 40, false))
        .collect();
    // Long runs of one extreme: every lane far beyond 64 bits.
    for v in extremes {
        let n = 70_001;
        cases.push(Case {
            data: vec![v; n],
            offset: 0,
            shape: vec![n],
            strides: vec![1],
        });
        cases.push(Case {
            data: vec![v; n],
            offset: 0,
            shape: vec![7, 10_000],
            strides: vec![10_000, 1],
        });
    }
    each_level(|level| {
        for (i, case) in cases.iter().enumerate() {
            let v = case.view();
            let rank = v.shape().len();
            for mask in 0..(1usize << rank) {
                let axes: Vec<usize> = (0..rank).filter(|k| mask >> k & 1 == 1).collect();
                let (_, groups) = groups(&v, &axes);
                let want: Vec<i128> = groups
                    .iter()
                    .map(|g| g.iter().map(|&x| x.into()).sum())
                    .collect();
                let ax: Vec<isize> = axes.iter().map(|&k| k as isize).collect();
                for threads in [1, 3] {
                    let p =
                        with_num_threads(threads, || partials(Op::Mean, &v, Some(&ax))).unwrap();
                    assert_eq!(
                        p.state(),
                        &State::Int(want.clone()),
                        "{level:?} case {i} shape {:?} strides {:?} axes {axes:?} {threads} threads",
                        case.shape,
                        case.strides
                    );
                    // `sum` keeps only the sum modulo 2^64 (numpy's result wraps).
                    let p = with_num_threads(threads, || partials(Op::Sum, &v, Some(&ax))).unwrap();
                    let State::Int(got) = p.state() else {
                        panic!("sum of integers: State::Int")
                    };
                    let low = |x: &[i128]| x.iter().map(|&x| x as u64).collect::<Vec<u64>>();
                    assert_eq!(
                        low(got),
                        low(&want),
                        "sum: {level:?} case {i} shape {:?} strides {:?} axes {axes:?} {threads} threads",
                        case.shape,
                        case.strides
                    );
                }
            }
        }
    });
}

#[test]
fn wide_integer_sums_are_exact() {
    exact_wide_sums(11, [i64::MIN, i64::MAX]);
    exact_wide_sums(12, [u64::MAX - 1, u64::MAX]);
}

/// Deviations from the kernels' shift (an element) squared can pass the largest float where
/// M2 does not: `var([x, -x])` with `x = 9e153` is `x²` (M2 = 2x², 1.6e308), though
/// `(x - (-x))² = 4x²` overflows. And M2 far from 1 (beyond 2^±900) is divided by the count
/// after scaling by a power of two, still rounded once: `var([0, 0, 0, 0, y]) = 4y²/25`.
#[test]
fn variance_near_overflow_and_at_extreme_scales() {
    let x = 9e153;
    let pair = [x, -x];
    let rows = [x, -x, -x, x, x, x];
    each_level(|level| {
        for threads in [1, 3] {
            with_num_threads(threads, || {
                assert_eq!(
                    var(&StridedView::from_1d(&pair), 0.0).value,
                    x * x,
                    "{level:?}"
                );
                assert_eq!(std(&StridedView::from_1d(&pair), 0.0).value, x, "{level:?}");
                let m = StridedView::contiguous(&rows, &[3, 2]).unwrap();
                let by_row = var_axes(&m, &[1], 0.0).unwrap();
                assert_eq!(by_row.data, vec![x * x, x * x, 0.0], "{level:?}");
                let t = m.permuted(&[1, 0]).unwrap();
                let by_col = var_axes(&t, &[0], 0.0).unwrap();
                assert_eq!(by_col.data, vec![x * x, x * x, 0.0], "{level:?}");
                // M2 = 4 x² passes the largest float, the variance x² does not: summed
                // again scaled (numpy's squares sum to inf). std of values whose variance
                // passes the largest float is finite; the variance inf.
                let four = [x, -x, x, -x];
                assert_eq!(var(&StridedView::from_1d(&four), 0.0).value, x * x);
                assert_eq!(std(&StridedView::from_1d(&four), 0.0).value, x);
                let wide = [1e308, -1e308, 1e308, -1e308];
                assert_eq!(var(&StridedView::from_1d(&wide), 0.0).value, f64::INFINITY);
                assert_eq!(std(&StridedView::from_1d(&wide), 0.0).value, 1e308);
                // Subnormal variances, rounded once (t = 2^-530: M2 = 386/5 t²; var =
                // 252968.96 2^-1074, numpy's squares are rounded to the subnormals'
                // spacing first); along an axis of a transposed matrix too.
                let t = 2f64.powi(-530);
                let tiny = [t, 2.0 * t, 4.0 * t, 9.0 * t, -3.0 * t];
                let want = 252969.0 * 2f64.powi(-1074);
                assert_eq!(var(&StridedView::from_1d(&tiny), 0.0).value, want);
                let cols: Vec<f64> = tiny.iter().flat_map(|&v| [v, 0.0]).collect();
                let m = StridedView::contiguous(&cols, &[5, 2]).unwrap();
                let got = var_axes(&m, &[0], 0.0).unwrap();
                assert_eq!(got.data, vec![want, 0.0], "{level:?}");
            });
        }
        let y = 1.8722363096793313e148;
        let five = [0.0, 0.0, 0.0, 0.0, y];
        assert_eq!(
            var(&StridedView::from_1d(&five), 0.0).value,
            5.60843007885069e295
        );
        let tiny: Vec<f64> = five.iter().map(|v| v * 1e-300).collect();
        // (y 1e-300)² 4/25, correctly rounded (Python's Fraction).
        assert_eq!(
            var(&StridedView::from_1d(&tiny), 0.0).value,
            5.608430078850689e-305
        );
    });
}

/// The f64 sum's offset loop (`kernels/sum.rs`, `f64_blocks`; SIMD levels with FMA) guesses
/// each segment's offset from the one before and adds a segment again when the guess was too
/// small. Data whose scale jumps by many orders from one stretch to the next, elements whose
/// squares underflow (below 2^-537) or overflow (above 2^512), zeros, and infinities or NaN
/// among finite elements: every sum is the correctly rounded exact sum, in order, reversed,
/// at stride 2 and stride 3, at every level. Zeros, and tiny elements that do not cancel,
/// are decided by the fast loop's own bound (no exact pass).
#[test]
fn f64_sums_whose_scale_jumps_are_correctly_rounded() {
    let mut r = Rng(77);
    let mut cases: Vec<(String, Vec<f64>)> = Vec::new();
    // Stretches of 700 elements (about 44 per lane: segments straddle them) at scales far
    // apart, up and down.
    let scales = [1e-3, 1e9, 1e-12, 1.0, 1e150, 1e-200, 1e30, 1e-300, 7.0];
    let jumps: Vec<f64> = scales
        .iter()
        .flat_map(|&s| (0..700).map(|_| (r.unit() - 0.3) * s).collect::<Vec<_>>())
        .collect();
    cases.push(("jumps".into(), jumps.clone()));
    cases.push((
        "jumps reversed".into(),
        jumps.iter().rev().copied().collect(),
    ));
    // One huge element in a segment of small ones (the guess holds for none of it).
    let mut spike: Vec<f64> = (0..5000).map(|_| r.unit()).collect();
    spike[2500] = 3e40;
    spike[4000] = -3e40;
    cases.push(("spike".into(), spike));
    // Squares that underflow: normals below 2^-560, and subnormals.
    cases.push((
        "tiny".into(),
        (0..9000)
            .map(|_| (r.unit() + 0.5) * 2f64.powi(-560))
            .collect(),
    ));
    cases.push((
        "subnormal".into(),
        (0..3000).map(|_| (r.unit() - 0.5) * 1e-310).collect(),
    ));
    // Squares that overflow: the TwoSum loop, then the exact pass.
    cases.push((
        "huge".into(),
        (0..4000)
            .map(|i| {
                if i % 3 == 0 {
                    1e300
                } else {
                    -(r.unit() * 4e299)
                }
            })
            .collect(),
    ));
    cases.push(("zeros".into(), vec![0.0; 6000]));
    let mut signed = vec![-0.0; 6000];
    signed[17] = 0.0;
    cases.push(("signed zeros".into(), signed));
    cases.push(("negative zeros".into(), vec![-0.0; 2000]));
    // Ties: 2^53 + 1 (odd) and halves, the exact sum halfway between two floats.
    let mut tie = vec![0.0; 3000];
    tie[5] = 2f64.powi(53);
    tie[2000] = 1.0;
    tie[2999] = 2.0;
    cases.push(("tie".into(), tie));
    for (name, x) in &cases {
        let exact = fsum(x.iter().copied());
        each_level(|level| {
            let v = StridedView::from_1d(x);
            let views = [
                ("in order", v.clone(), exact),
                (
                    "reversed",
                    v.sliced(0, x.len() - 1, usize::MAX, -1).unwrap(),
                    exact,
                ),
                (
                    "stride 2",
                    v.sliced(0, 0, x.len(), 2).unwrap(),
                    fsum(x.iter().step_by(2).copied()),
                ),
                (
                    "stride 3",
                    v.sliced(0, 0, x.len(), 3).unwrap(),
                    fsum(x.iter().step_by(3).copied()),
                ),
            ];
            for (form, view, want) in &views {
                // (A sum of zeros is +0.0, as numpy's, whatever their signs.)
                let want = if *want == 0.0 { 0.0 } else { *want };
                let got = sum(view);
                assert_eq!(
                    got.to_bits(),
                    want.to_bits(),
                    "{name}, {form}, {level:?}: {got:e} vs {want:e}"
                );
            }
        });
    }
    // Specials among finite elements: IEEE's answer wherever they stand.
    for (at, specials, want) in [
        (3000usize, vec![f64::INFINITY], f64::INFINITY),
        (10, vec![f64::NEG_INFINITY], f64::NEG_INFINITY),
        (5999, vec![f64::NAN], f64::NAN),
        (100, vec![f64::INFINITY, f64::NEG_INFINITY], f64::NAN),
    ] {
        let mut x: Vec<f64> = (0..6000).map(|_| r.unit() * 1e3).collect();
        for (k, s) in specials.iter().enumerate() {
            x[at + 1000 * k] = *s;
        }
        each_level(|level| {
            let got = sum(&StridedView::from_1d(&x));
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "{specials:?} at {at}, {level:?}: {got}"
            );
        });
    }
    // Exact sums far from the largest float whose running sums pass it: 200 times 1.5e308,
    // then 200 times -1.5e308 (exact sum 1.0).
    let mut over = vec![1.5e308; 200];
    over.extend(vec![-1.5e308; 200]);
    over.push(1.0);
    each_level(|level| {
        assert_eq!(sum(&StridedView::from_1d(&over)), 1.0, "{level:?}");
    });
    // The fast loop's bound decides zeros and tiny elements of one sign by itself.
    for (name, x) in [
        ("zeros", vec![0.0; 5000]),
        (
            "tiny",
            (0..5000)
                .map(|i| (1.0 + i as f64) * 2f64.powi(-700))
                .collect(),
        ),
    ] {
        each_level(|level| {
            if level == SimdLevel::Scalar {
                return; // (the TwoSum loop, whose bound is from the squares)
            }
            let parts = partials(Op::Sum, &StridedView::from_1d(&x), None).expect("partials");
            let State::Float(p) = parts.state() else {
                panic!("float partials");
            };
            for q in p {
                assert!(
                    q.rounded_f64().is_some(),
                    "{name}, {level:?}: {q:?} left to the exact pass"
                );
            }
            if name == "zeros" {
                assert!(p.iter().all(|q| q.err == 0.0), "{name}, {level:?}: {p:?}");
            }
        });
    }
}

/// The vertical path's offset loop (f64 column sums of more than 128 rows, at the FMA
/// levels): columns whose scale jumps between stretches of rows, spikes, squares that
/// underflow or overflow, subnormals, zeros of both signs, ties, infinities and NaN,
/// running sums past the largest float; 1203 rows (segments of 512 folded twice, a short
/// last batch of 3) and 45 columns (the last outputs in narrower and copied pieces), read in
/// order, with reversed rows, at column strides 2 and 3, and transposed: every column's sum
/// is `fsum` of it, bit for bit. Zero columns and tiny one-signed ones are decided without
/// the exact pass.
#[test]
fn f64_column_sums_are_correctly_rounded() {
    let (rows, cols) = (1203usize, 45usize);
    let mut r = Rng(91);
    let scales = [1e-3, 1e9, 1e-12, 1.0, 1e150, 1e-200, 1e30, 1e-300, 7.0];
    let mut columns: Vec<Vec<f64>> = Vec::new();
    for c in 0..cols {
        let col: Vec<f64> = match c % 15 {
            // Stretches of 150 rows at scales far apart, up and down.
            0 => (0..rows)
                .map(|i| (r.unit() - 0.3) * scales[(i / 150) % scales.len()])
                .collect(),
            1 => (0..rows)
                .map(|i| (r.unit() - 0.3) * scales[scales.len() - 1 - (i / 150) % scales.len()])
                .collect(),
            2 => {
                let mut x: Vec<f64> = (0..rows).map(|_| r.unit()).collect();
                x[600] = 3e40;
                x[1100] = -3e40;
                x
            }
            3 => (0..rows)
                .map(|_| (r.unit() + 0.5) * 2f64.powi(-560))
                .collect(),
            4 => (0..rows).map(|_| (r.unit() - 0.5) * 1e-310).collect(),
            5 => (0..rows)
                .map(|i| {
                    if i % 3 == 0 {
                        1e300
                    } else {
                        -(r.unit() * 4e299)
                    }
                })
                .collect(),
            6 => vec![0.0; rows],
            7 => {
                let mut x = vec![-0.0; rows];
                x[17] = 0.0;
                x
            }
            8 => vec![-0.0; rows],
            9 => {
                let mut x = vec![0.0; rows];
                (x[5], x[900], x[1202]) = (2f64.powi(53), 1.0, 2.0);
                x
            }
            10 => {
                let mut x: Vec<f64> = (0..rows).map(|_| r.unit() * 1e3).collect();
                x[700] = f64::INFINITY;
                x
            }
            11 => {
                let mut x: Vec<f64> = (0..rows).map(|_| r.unit() * 1e3).collect();
                x[3] = f64::NAN;
                x
            }
            12 => {
                let mut x = vec![1.5e308; 200];
                x.extend(vec![-1.5e308; 200]);
                x.extend(vec![0.0; rows - 401]);
                x.push(1.0);
                x
            }
            // Zeros, then a scale that grows row by row (each batch above the last segment's).
            13 => (0..rows)
                .map(|i| {
                    if i < 520 {
                        0.0
                    } else {
                        (r.unit() - 0.5) * 1.1f64.powi(i as i32 - 520)
                    }
                })
                .collect(),
            _ => (0..rows)
                .map(|i| (1.0 + i as f64) * 2f64.powi(-700))
                .collect(),
        };
        columns.push(col);
    }
    let x: Vec<f64> = (0..rows * cols)
        .map(|k| columns[k % cols][k / cols])
        .collect();
    let full = StridedView::contiguous(&x, &[rows, cols]).unwrap();
    // (A sum of zeros is +0.0, as numpy's, whatever their signs.)
    let want = |c: usize| {
        if c % 15 == 12 {
            return 1.0; // (`fsum`'s own partial sums overflow)
        }
        let s = fsum(columns[c].iter().copied());
        if s == 0.0 {
            0.0
        } else {
            s
        }
    };
    let views: [(&str, StridedView<'_, f64>, Vec<usize>, isize); 5] = [
        ("in order", full.clone(), (0..cols).collect(), 0),
        (
            "rows reversed",
            full.sliced(0, rows - 1, usize::MAX, -1).unwrap(),
            (0..cols).collect(),
            0,
        ),
        (
            "stride 2",
            full.sliced(1, 0, cols, 2).unwrap(),
            (0..cols).step_by(2).collect(),
            0,
        ),
        (
            "stride 3",
            full.sliced(1, 0, cols, 3).unwrap(),
            (0..cols).step_by(3).collect(),
            0,
        ),
        (
            "transposed",
            full.permuted(&[1, 0]).unwrap(),
            (0..cols).collect(),
            1,
        ),
    ];
    each_level(|level| {
        for (form, view, which, axis) in &views {
            let got = sum_axes(view, &[*axis]).unwrap();
            for (&c, &g) in which.iter().zip(&got.data) {
                let w = want(c);
                assert!(
                    g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                    "column {c} ({}), {form}, {level:?}: {g:e} vs {w:e}",
                    c % 15
                );
            }
        }
        if level == SimdLevel::Scalar {
            return; // (the TwoSum loop, whose bound is from the squares)
        }
        let parts = partials(Op::Sum, &full, Some(&[0])).expect("partials");
        let State::Float(p) = parts.state() else {
            panic!("float partials");
        };
        // Every finite bound holds: the exact rest of the column less `hi + lo` (exactly
        // rounded by `fsum`) is within it.
        for (c, q) in p.iter().enumerate() {
            // (Column 12's running sums pass the largest float, `fsum`'s too.)
            if !(q.err.is_finite() && q.hi.is_finite() && q.lo.is_finite()) || c % 15 == 12 {
                continue;
            }
            let rest = fsum(columns[c].iter().copied().chain([-q.hi, -q.lo]));
            // (An `err` of 0 with `lo` rounded to odd: within an ulp of `lo`.)
            let lo = q.lo.abs();
            let bound = if q.err == 0.0 && lo != 0.0 {
                f64::from_bits(lo.to_bits() + 1) - lo
            } else {
                q.err
            };
            assert!(
                rest.abs() <= bound,
                "column {c}, {level:?}: {q:?} misses the sum by {rest:e}"
            );
        }
        for c in [6, 7, 8, 14, 21, 22, 23, 29] {
            assert!(
                p[c].rounded_f64().is_some(),
                "column {c}, {level:?}: {:?} left to the exact pass",
                p[c]
            );
            if c % 15 != 14 {
                assert_eq!(p[c].err, 0.0, "zeros, column {c}, {level:?}: {:?}", p[c]);
            }
        }
    });
}
