//! Bitwise-identical results for any thread count and any base-pointer alignment.

use crate::common::*;
use stridewise::*;

/// Every reduction in the table, whole and along each end axis, rendered exactly (`{:?}` of
/// f64 round-trips).
fn fingerprint(v: &StridedView<'_, f64>) -> String {
    let mut s = String::new();
    for op in Op::ALL {
        for axes in [None, Some(&[0][..]), Some(&[-1][..])] {
            s += &format!("{op:?} {axes:?} {:?}\n", reduce(op, v, axes, 1.0));
        }
    }
    s
}

fn data(n: usize) -> Vec<f64> {
    let mut r = Rng(42);
    (0..n).map(|_| (r.unit() - 0.3) * 1e3).collect()
}

#[test]
fn same_bits_for_any_thread_count() {
    // Larger than PARALLEL_THRESHOLD, so the pool is used.
    let (rows, cols) = (1200usize, 1001usize);
    assert!(rows * cols > PARALLEL_THRESHOLD);
    let x = data(rows * cols);
    let full = StridedView::contiguous(&x, &[rows, cols]).unwrap();
    let views = [
        full.clone(),
        full.permuted(&[1, 0]).unwrap(),
        full.sliced(1, 0, cols - 1, 1).unwrap(),
        full.sliced(0, rows - 1, usize::MAX, -1).unwrap(),
    ];
    for v in &views {
        let one = with_num_threads(1, || fingerprint(v));
        for t in [2, 3, 4] {
            assert_eq!(one, with_num_threads(t, || fingerprint(v)), "{t} threads");
        }
    }
}

#[test]
fn mid_sizes_same_bits_for_any_thread_count_and_concurrent_callers() {
    // Two work units or more but below PARALLEL_THRESHOLD: the hand-off helpers' path.
    let (rows, cols) = (300usize, 401usize);
    assert!(rows * cols < PARALLEL_THRESHOLD && rows * cols > 2 << 15);
    let x = data(rows * cols);
    let full = StridedView::contiguous(&x, &[rows, cols]).unwrap();
    let views = [
        full.clone(),
        full.permuted(&[1, 0]).unwrap(),
        full.sliced(0, rows - 1, usize::MAX, -1).unwrap(),
    ];
    for v in &views {
        let one = with_num_threads(1, || fingerprint(v));
        for t in [2, 3, 4] {
            assert_eq!(one, with_num_threads(t, || fingerprint(v)), "{t} threads");
        }
        // Callers on several threads at once: the ones that find the helpers busy run
        // their parts themselves, with the same result.
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..3)
                .map(|_| s.spawn(|| with_num_threads(2, || fingerprint(v))))
                .collect();
            for h in handles {
                assert_eq!(one, h.join().unwrap());
            }
        });
    }
}

#[test]
fn interleaved_channels_same_bits_for_any_thread_count() {
    // An image of 3 channels reduced over its pixels, large enough for the pool.
    let (h, w, c) = (600usize, 480usize, 3usize);
    let x = data(h * w * c);
    let img = StridedView::contiguous(&x, &[h, w, c]).unwrap();
    let run = || {
        Op::ALL
            .iter()
            .map(|&op| format!("{op:?} {:?}\n", reduce(op, &img, Some(&[0, 1]), 1.0)))
            .collect::<String>()
    };
    let one = with_num_threads(1, run);
    for t in [2, 3] {
        assert_eq!(one, with_num_threads(t, run), "{t} threads");
    }
}

#[test]
fn same_bits_for_any_alignment() {
    let n = 700_007; // 7 x 100_001
    let x = data(n);
    let reference = fingerprint(&StridedView::contiguous(&x, &[7, n / 7]).unwrap());
    for shift in 1..9 {
        let mut buf = vec![0.0; n + shift];
        buf[shift..].copy_from_slice(&x);
        let v = StridedView::from_slice(&buf, shift, &[7, n / 7], &[(n / 7) as isize, 1]).unwrap();
        assert_eq!(reference, fingerprint(&v), "shift {shift} elements");
    }
}

#[test]
fn same_bits_at_every_simd_level() {
    let x = data(600_000);
    let v = StridedView::contiguous(&x, &[600, 1000]).unwrap();
    let levels = available_simd_levels();
    let first = with_simd_level(levels[0], || fingerprint(&v));
    for &l in &levels[1..] {
        assert_eq!(first, with_simd_level(l, || fingerprint(&v)), "{l:?}");
    }
}

#[test]
fn thread_and_level_settings() {
    with_num_threads(3, || assert_eq!(get_num_threads(), 3));
    with_simd_level(SimdLevel::Scalar, || {
        assert_eq!(simd_level(), SimdLevel::Scalar)
    });
    assert_eq!(simd_level(), set_simd_level(None));
    assert!(available_simd_levels().contains(&simd_level()));
}

#[test]
fn each_output_of_an_axis_reduction_is_its_whole_reduction() {
    // Rows longer than one work unit, several outputs: each output must be bitwise the
    // whole-array reduction of its row, with any thread count.
    let (rows, cols) = (6usize, 100_003usize);
    let x = data(rows * cols);
    let m = StridedView::contiguous(&x, &[rows, cols]).unwrap();
    for t in [1, 2, 3] {
        with_num_threads(t, || {
            let sums = sum_axes(&m, &[1]).unwrap();
            let vars = var_axes(&m, &[-1], 1.0).unwrap();
            let mins = min_axes(&m, &[1]).unwrap();
            for r in 0..rows {
                let row = m.sliced(0, r, r + 1, 1).unwrap();
                assert_eq!(
                    sums.data[r].to_bits(),
                    sum(&row).to_bits(),
                    "row {r}, {t} threads"
                );
                assert_eq!(
                    vars.data[r].to_bits(),
                    var(&row, 1.0).value.to_bits(),
                    "row {r}"
                );
                assert_eq!(mins.data[r], min(&row).unwrap(), "row {r}");
            }
        });
    }
}

/// Not a check: says which SIMD levels this machine ran the suite at (every level it has,
/// in the property and determinism tests) and which it skipped. `make test` prints it.
#[test]
fn simd_levels_report() {
    let ran = available_simd_levels();
    let skipped: Vec<&str> = SimdLevel::ALL
        .iter()
        .filter(|l| !ran.contains(l))
        .map(|l| l.name())
        .collect();
    let ran: Vec<&str> = ran.iter().map(|l| l.name()).collect();
    println!(
        "stridewise: SIMD levels tested on this CPU: {}; not available here (skipped): {}",
        ran.join(", "),
        if skipped.is_empty() {
            "none".to_string()
        } else {
            skipped.join(", ")
        }
    );
}
