//! prod and nanprod on long inputs whose exact product is known: powers of two far beyond
//! the float range (so that only a product that keeps its exponent apart survives), a few
//! factors of 3 (so the mantissa matters), on every path, at every thread count and SIMD
//! level, bitwise.

use crate::common::Rng;
use stridewise::*;

/// `n` elements `±2^k` (`n` a multiple of 4) in groups `2^a, 2^b, 2^-a, 2^-b` with `a`, `b`
/// between 600 and 1000, so that a plain running product overflows in most groups while the
/// exact product is a power of two; `threes` of them times 3 (so the mantissa matters), and
/// the exact product's sign.
fn powers(n: usize, seed: u64, threes: usize) -> (Vec<f64>, bool) {
    let mut rng = Rng(seed);
    let mut data = Vec::with_capacity(n);
    let mut neg = false;
    let every = n / threes;
    for g in 0..n / 4 {
        let (a, b) = (600 + rng.below(401) as i32, 600 + rng.below(401) as i32);
        for (j, k) in [a, b, -a, -b].into_iter().enumerate() {
            let i = 4 * g + j;
            let mut x = 2f64.powi(k);
            if i % every == 0 && i / every < threes {
                x *= 3.0;
            }
            if rng.below(2) == 0 {
                x = -x;
                neg = !neg;
            }
            data.push(x);
        }
    }
    (data, neg)
}

fn exact(threes: usize, neg: bool) -> f64 {
    let v = 3f64.powi(threes as i32);
    if neg {
        -v
    } else {
        v
    }
}

#[test]
fn long_products_are_exact_on_every_path() {
    let (rows, cols) = (240usize, 1250usize);
    let threes = 30; // 3^30 < 2^53: exact in f64
    let (data, neg) = powers(rows * cols, 7, threes);
    let want = exact(threes, neg);
    let v = StridedView::contiguous(&data, &[rows, cols]).unwrap();
    let mut bits = None;
    for level in available_simd_levels() {
        for threads in [1, 2, 3] {
            with_simd_level(level, || {
                with_num_threads(threads, || {
                    let what = format!("{level:?} {threads} threads");
                    for view in [
                        v.clone(),
                        v.permuted(&[1, 0]).unwrap(),
                        v.sliced(0, rows - 1, usize::MAX, -1).unwrap(),
                    ] {
                        assert_eq!(prod(&view), want, "{what}");
                        assert_eq!(nanprod(&view), want, "{what}");
                    }
                    // Every row's and column's product, against the same definition.
                    let r0 = prod_axes(&v, &[0]).unwrap();
                    let r1 = prod_axes(&v, &[1]).unwrap();
                    for (j, &p) in r0.data.iter().enumerate() {
                        let col: f64 = (0..rows).map(|i| data[i * cols + j]).product();
                        if col.is_finite() && col != 0.0 && col.abs() >= f64::MIN_POSITIVE {
                            // A column of 240 is short enough for f64's range sometimes.
                            assert_eq!(p, col, "{what}: column {j}");
                        }
                    }
                    let got = (r0.data.clone(), r1.data.clone());
                    match &bits {
                        None => bits = Some(got),
                        Some(b) => assert_eq!(b, &got, "{what}"),
                    }
                });
            });
        }
    }
}

#[test]
fn float_products_round_once() {
    // 1.1^200000 is about 2^27500.7: far beyond f64, scaled back by 27 * 2^-1000 * 2^-500.
    let n = 200_000;
    let mut data = vec![1.1f64; n];
    data.extend([2f64.powi(-1000); 27]);
    data.push(2f64.powi(-500));
    let v = StridedView::contiguous(&data, &[data.len()]).unwrap();
    let got = prod(&v);
    let want = (n as f64 * 1.1f64.ln() - 27_500.0 * 2f64.ln()).exp();
    assert!((got - want).abs() <= 1e-9 * want, "{got} against {want}");
    // f32: 1.1f32^200000 scaled back by 275 * 2^-100, rounded once to f32.
    let mut d32 = vec![1.1f32; n];
    d32.extend([2f32.powi(-100); 275]);
    let v32 = StridedView::contiguous(&d32, &[d32.len()]).unwrap();
    let p32 = prod(&v32) as f64;
    let want32 = (n as f64 * (1.1f32 as f64).ln() - 27_500.0 * 2f64.ln()).exp();
    assert!(
        (p32 - want32).abs() <= 1e-7 * want32,
        "{p32} against {want32}"
    );
}

#[test]
fn special_values_and_integers() {
    let v = |d: &[f64]| prod(&StridedView::contiguous(d, &[d.len()]).unwrap());
    let mut long = vec![1.0f64; 5000];
    assert_eq!(v(&long), 1.0);
    long[3333] = -0.0;
    assert_eq!(v(&long).to_bits(), (-0.0f64).to_bits());
    long[17] = f64::INFINITY;
    assert!(v(&long).is_nan(), "0 * inf");
    long[3333] = -2.0;
    assert_eq!(v(&long), f64::NEG_INFINITY);
    long[100] = f64::NAN;
    assert!(v(&long).is_nan());
    let n = nanprod(&StridedView::contiguous(&long, &[5000]).unwrap());
    assert_eq!(n, f64::NEG_INFINITY, "nanprod skips NaN");
    // Subnormal elements.
    let s = [f64::MIN_POSITIVE / 1024.0, 2048.0];
    assert_eq!(v(&s), f64::MIN_POSITIVE * 2.0);
    assert_eq!(v(&[]), 1.0);

    let ints: Vec<i8> = (0..1000).map(|i| if i % 7 == 0 { -3 } else { 1 }).collect();
    let want = (0..1000)
        .filter(|i| i % 7 == 0)
        .fold(1i64, |a, _| a.wrapping_mul(-3));
    assert_eq!(
        prod(&StridedView::contiguous(&ints, &[1000]).unwrap()),
        want
    );
    let b = [true, true, false];
    assert_eq!(prod(&StridedView::contiguous(&b[..2], &[2]).unwrap()), 1i64);
    assert_eq!(prod(&StridedView::contiguous(&b, &[3]).unwrap()), 0i64);
    let u = [u64::MAX, u64::MAX, 3];
    assert_eq!(prod(&StridedView::contiguous(&u, &[3]).unwrap()), 3u64);
}

/// Products of values near 1 (so that every mantissa bit and `lo` matter) over axis 0, where
/// the vertical path multiplies whole groups of 16 outputs in vectors at the FMA levels and
/// falls back, group by group, to the exponent-splitting loop where an element is zero,
/// subnormal, inf, NaN or beyond 2^±24: bitwise the scalar level's results at every level and
/// thread count, and within a few ulps of the product in f64 steps.
#[test]
fn vertical_products_are_the_same_on_every_path() {
    let (rows, cols) = (301usize, 1013usize); // flushes every 32 rows; a 5-output tail
    let mut rng = Rng(11);
    let mut data: Vec<f64> = (0..rows * cols)
        .map(|_| {
            let x = 0.5 + 1.5 * rng.unit();
            if rng.below(2) == 0 {
                -x
            } else {
                x
            }
        })
        .collect();
    // Columns 40.., one special each, some rows apart: groups of 16 outputs that fall back.
    let specials = [
        0.0,
        -0.0,
        f64::MIN_POSITIVE / 8.0,
        f64::INFINITY,
        f64::NAN,
        3e7,
        1e-9,
        2f64.powi(24),
        2f64.powi(-24),
        1e200,
    ];
    for (k, &s) in specials.iter().enumerate() {
        data[(7 + 29 * k) * cols + 40 + 70 * k] = s;
    }
    let v = StridedView::contiguous(&data, &[rows, cols]).unwrap();
    // The same values in F order, reduced over axis 1: the vertical path again.
    let t: Vec<f64> = (0..rows * cols)
        .map(|i| data[(i % rows) * cols + i / rows])
        .collect();
    let f = StridedView::from_slice(&t, 0, &[rows, cols], &[1, rows as isize]).unwrap();
    let bits = |r: &[f64]| r.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let run = || {
        let a = prod_axes(&v, &[0]).unwrap().data;
        let b = prod_axes(&f, &[0]).unwrap().data;
        assert!(bits(&a) == bits(&b), "C and F order differ");
        (bits(&a), bits(&nanprod_axes(&v, &[0]).unwrap().data))
    };
    let want = with_simd_level(SimdLevel::Scalar, || with_num_threads(1, run));
    for level in available_simd_levels() {
        for threads in [1, 3] {
            let got = with_simd_level(level, || with_num_threads(threads, run));
            assert!(got == want, "{level:?} {threads} threads");
        }
    }
    // Against the plain product in f64 (which stays in range here) on clean columns.
    let (p, _) = want;
    for j in (0..cols).filter(|j| !(40..=40 + 70 * 9).contains(j) || (j - 40) % 70 != 0) {
        let plain: f64 = (0..rows).map(|i| data[i * cols + j]).product();
        let got = f64::from_bits(p[j]);
        assert!(
            (got - plain).abs() <= 1e-13 * plain.abs(),
            "column {j}: {got} against {plain}"
        );
    }
    // The special columns: zero, inf and NaN decide; the others are finite products.
    let col = |k: usize| f64::from_bits(p[40 + 70 * k]);
    assert_eq!(col(0), 0.0);
    assert_eq!(col(1), 0.0);
    assert!(col(3).is_infinite() && col(4).is_nan());
    for k in [2, 5, 6, 7, 8, 9] {
        assert!(
            col(k).is_finite() && col(k) != 0.0,
            "special {k}: {}",
            col(k)
        );
    }
}

/// The f32 products, where the FMA levels multiply whole widened elements (axis 0: pieces of
/// outputs; axis 1 and whole: blocks of lanes) when all are in range, and split exponents
/// otherwise: bitwise the scalar level's results at every level and thread count, and the
/// correctly rounded product within an f32 ulp of the f64 one.
#[test]
fn f32_products_are_the_same_on_every_path() {
    let (rows, cols) = (203usize, 517usize);
    let mut rng = Rng(5);
    let mut data: Vec<f32> = (0..rows * cols)
        .map(|_| {
            let x = (0.8 + 0.4 * rng.unit()) as f32;
            if rng.below(3) == 0 {
                -x
            } else {
                x
            }
        })
        .collect();
    let specials = [
        0.0f32,
        f32::MIN_POSITIVE / 4.0,
        f32::INFINITY,
        f32::NAN,
        1e9,
        1e-9,
    ];
    for (k, &s) in specials.iter().enumerate() {
        data[(3 + 31 * k) * cols + 300 + 40 * k] = s;
    }
    let v = StridedView::contiguous(&data, &[rows, cols]).unwrap();
    let bits = |r: &[f32]| r.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let run = || {
        // Two rows' first 280 columns (no special): 560 elements through the lanes.
        let clean = v.sliced(0, 0, 2, 1).unwrap().sliced(1, 0, 280, 1).unwrap();
        (
            bits(&prod_axes(&v, &[0]).unwrap().data),
            bits(&nanprod_axes(&v, &[0]).unwrap().data),
            bits(&prod_axes(&v, &[1]).unwrap().data),
            prod(&clean).to_bits(),
        )
    };
    let want = with_simd_level(SimdLevel::Scalar, || with_num_threads(1, run));
    for level in available_simd_levels() {
        for threads in [1, 3] {
            let got = with_simd_level(level, || with_num_threads(threads, run));
            assert!(got == want, "{level:?} {threads} threads");
        }
    }
    for j in 0..280 {
        let exact: f64 = (0..rows).map(|i| data[i * cols + j] as f64).product();
        let got = f32::from_bits(want.0[j]) as f64;
        assert!(
            (got - exact).abs() <= exact.abs() * f32::EPSILON as f64,
            "column {j}: {got} against {exact}"
        );
    }
    let col = |k: usize| f32::from_bits(want.0[300 + 40 * k]);
    assert!(col(0) == 0.0 && col(2).is_infinite() && col(3).is_nan());
    assert!(
        f32::from_bits(want.1[300 + 40 * 3]).is_finite(),
        "nanprod skips NaN"
    );
}
