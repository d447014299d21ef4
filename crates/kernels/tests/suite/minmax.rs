//! min and max of f64 runs at stride 2 (`a[::2]`, `a[:, ::2]`: a whole-vector loop of their
//! own at AVX2 and AVX-512) against the same elements copied into contiguous runs, bitwise,
//! at every SIMD level and thread count: signed zeros that tie, NaN among the elements, and
//! NaN or huge values in the elements between them, which must never count.

use crate::common::*;
use stridewise::*;

/// Run element `i` of case `case`.
fn value(case: usize, i: usize, n: usize, r: &mut Rng) -> f64 {
    match case {
        0 => r.unit() * 20.0 - 10.0,
        // Ties everywhere: signed zeros and ones.
        1 => [0.0, -0.0, 1.0, -1.0][r.below(4) as usize],
        2 => [0.0, -0.0][r.below(2) as usize],
        // One NaN, first, last or in between.
        3 if i == 0 => f64::NAN,
        4 if i == n - 1 => f64::NAN,
        5 if i == n / 2 => f64::NAN,
        // All NaN but one, and all NaN.
        6 if i != n / 3 => f64::NAN,
        7 => f64::NAN,
        _ => r.unit() - 0.5,
    }
}

/// Every result as text: bitwise for values (`-0.0` and `0.0` differ), and errors by kind.
fn all<T: std::fmt::Debug>(
    v: &StridedView<'_, f64>,
    f: &dyn Fn(&StridedView<'_, f64>) -> T,
) -> String {
    format!("{:?}", f(v))
}

/// A reduction of a view, its result as text.
type Check<'a> = (&'a str, &'a dyn Fn(&StridedView<'_, f64>) -> String);

#[test]
fn stride_two_f64_runs_match_their_contiguous_copies() {
    let mut r = Rng(11);
    let ops: [Check; 8] = [
        ("min", &|v| all(v, &|v| min(v))),
        ("max", &|v| all(v, &|v| max(v))),
        ("nanmin", &|v| all(v, &|v| nanmin(v))),
        ("nanmax", &|v| all(v, &|v| nanmax(v))),
        ("min axis 1", &|v| all(v, &|v| min_axes(v, &[-1]))),
        ("max axis 1", &|v| all(v, &|v| max_axes(v, &[-1]))),
        ("nanmin axis 1", &|v| all(v, &|v| nanmin_axes(v, &[-1]))),
        ("nanmax axis 1", &|v| all(v, &|v| nanmax_axes(v, &[-1]))),
    ];
    let mut checked = 0;
    for (rows, n) in [
        (1, 1),
        (1, 2),
        (1, 31),
        (1, 32),
        (1, 33),
        (1, 64),
        (1, 65),
        (1, 100),
        (1, 1000),
        (1, 4095),
        (3, 97),
        (5, 33),
        (40, 300),
    ] {
        for case in 0..9 {
            let run: Vec<f64> = (0..rows * n)
                .map(|i| value(case, i % n, n, &mut r))
                .collect();
            // The same elements at stride 2; between them NaN (even cases) or +-1e300.
            let mut buf = vec![0.0; 2 * rows * n];
            for (i, &x) in run.iter().enumerate() {
                buf[2 * i] = x;
                buf[2 * i + 1] = if case % 2 == 0 {
                    f64::NAN
                } else if i % 2 == 0 {
                    1e300
                } else {
                    -1e300
                };
            }
            let wide = StridedView::contiguous(&buf, &[rows, 2 * n]).unwrap();
            let strided = wide.sliced(1, 0, usize::MAX, 2).unwrap();
            let copy = StridedView::contiguous(&run, &[rows, n]).unwrap();
            for level in available_simd_levels() {
                for threads in [1, 2] {
                    with_simd_level(level, || {
                        with_num_threads(threads, || {
                            for (name, op) in &ops {
                                assert_eq!(
                                    op(&strided),
                                    op(&copy),
                                    "{name} of {rows}x{n} at stride 2, case {case}, {level:?}, \
                                     {threads} threads"
                                );
                                checked += 1;
                            }
                        })
                    });
                }
            }
        }
    }
    // (Not a test that passes by doing nothing: every case ran.)
    assert_eq!(checked, 13 * 9 * available_simd_levels().len() * 2 * 8);
}
