//! Bitwise-identical results for any thread count and any base-pointer alignment.

use crate::common::*;
use stridewise::*;

/// Every reduction in the table, whole and along each end axis, rendered exactly (`{:?}` of
/// f64 round-trips).
fn fingerprint<T: Element>(v: &StridedView<'_, T>) -> String {
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
    // Two work units or more but below PARALLEL_THRESHOLD: the hand-off helpers' path; the
    // second shape's 701 outputs a row are cut among two threads (driver::vertical's
    // SPLIT_OUTPUTS) where the first's rows are cut into blocks.
    for (rows, cols) in [(300usize, 401usize), (130, 701)] {
        mid_size_same_bits(rows, cols);
    }
}

fn mid_size_same_bits(rows: usize, cols: usize) {
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

/// Values whose sums cancel almost entirely: pairs `b`, `-b` of about 2^100 far apart among
/// values below 1, so the exact sum is that of the small ones. A compensated lane then
/// carries an error term far larger than the result's last place, which depends on the order
/// in which the lane took its elements: any two SIMD levels that cut a run differently
/// (a contiguous run read as side-by-side streams, see `walk::STREAMS`, a strided one in
/// order) give different bits. Well-conditioned data (above) cannot show that.
fn cancelling(n: usize, seed: u64) -> Vec<f64> {
    let mut r = Rng(seed);
    let mut x: Vec<f64> = (0..n).map(|_| r.unit() - 0.5).collect();
    // Positions in a random order (Fisher-Yates), taken two at a time: no position is in
    // two pairs, so every big value meets its negation.
    let mut at: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        at.swap(i, r.next() as usize % (i + 1));
    }
    for p in at[..n / 8].chunks_exact(2) {
        let b = (r.unit() + 0.5) * 2f64.powi(100);
        (x[p[0]], x[p[1]]) = (b, -b);
    }
    x
}

#[test]
fn ill_conditioned_same_bits_at_every_simd_level() {
    // Rows long enough for side-by-side streams (70001 f64, 560 KB) and short ones; the same
    // values as f32 (their sums are widened per block: another order to keep).
    let (rows, cols) = (3usize, 70_001usize);
    let x = cancelling(rows * cols, 11);
    let xf: Vec<f32> = x.iter().map(|&v| (v * 2f64.powi(-80)) as f32).collect();
    let m = StridedView::contiguous(&x, &[rows, cols]).unwrap();
    let mf = StridedView::contiguous(&xf, &[rows, cols]).unwrap();
    let views = [
        m.clone(),
        m.sliced(1, 0, usize::MAX, 2).unwrap(),
        m.sliced(1, cols - 1, usize::MAX, -1).unwrap(),
    ];
    let levels = available_simd_levels();
    let at = |l| {
        with_simd_level(l, || {
            views.iter().map(fingerprint).collect::<String>() + &fingerprint(&mf)
        })
    };
    let first = at(levels[0]);
    // The data do what they are for: a compensated sum differs from the exact one here (it
    // did before sums were correctly rounded); the sum is now the exact one rounded.
    assert_eq!(sum(&m).to_bits(), fsum(x.iter().copied()).to_bits());
    for &l in &levels[1..] {
        let other = at(l);
        // The first line that differs, cut short (a line holds a whole axis's outputs).
        if let Some((a, b)) = first.lines().zip(other.lines()).find(|(a, b)| a != b) {
            let cut = |s: &str| s.chars().take(160).collect::<String>();
            panic!("{:?}: {}\n{l:?}: {}", levels[0], cut(a), cut(b));
        }
        assert_eq!(first.len(), other.len(), "{l:?}");
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

/// A reversed fastest kept axis, which the vertical path walks forwards and writes back to
/// front, gives the bits of a contiguous copy of the view: every reduction, over the leading
/// axis of matrices wider than one group of outputs (8192) and over the leading axes of a
/// cube whose kept axis and middle axis are reversed, at every level, one thread and three.
#[test]
fn reversed_kept_axes_give_the_bits_of_a_copy() {
    let (rows, cols) = (9usize, 8200usize);
    let x = data(rows * cols);
    let full = StridedView::contiguous(&x, &[rows, cols]).unwrap();
    let cube = StridedView::contiguous(&x[..6 * 5 * 300], &[6, 5, 300]).unwrap();
    fn flipped<'a>(v: &StridedView<'a, f64>, axis: usize) -> StridedView<'a, f64> {
        let n = v.shape()[axis];
        v.sliced(axis, n - 1, usize::MAX, -1).unwrap()
    }
    let cases = [
        (flipped(&full, 1), vec![0isize]),
        (flipped(&flipped(&full, 1), 0), vec![0]),
        (flipped(&flipped(&cube, 2), 1), vec![0]),
        (flipped(&flipped(&cube, 2), 1), vec![0, 1]),
    ];
    for (v, axes) in &cases {
        let copy = elements(v);
        let c = StridedView::contiguous(&copy, v.shape()).unwrap();
        let render = |w: &StridedView<'_, f64>| {
            let mut s = String::new();
            for op in Op::ALL {
                s += &format!("{op:?} {:?}\n", reduce(op, w, Some(axes), 1.0));
            }
            s
        };
        for level in available_simd_levels() {
            for t in [1, 3] {
                let (got, want) =
                    with_simd_level(level, || with_num_threads(t, || (render(v), render(&c))));
                assert_eq!(
                    got,
                    want,
                    "{:?} over {axes:?}, {level:?}, {t} threads",
                    v.shape()
                );
            }
        }
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
        "stridewise: SIMD levels tested on this CPU: {}; not available here (skipped): {}; \
         long runs read {}",
        ran.join(", "),
        if skipped.is_empty() {
            "none".to_string()
        } else {
            skipped.join(", ")
        },
        if stridewise::reads_streams() {
            "as streams"
        } else {
            "in order"
        }
    );
}
