//! count_nonzero / any / all against a plain count, on the layouts and lengths where the
//! counting kernel's narrow tallies must be emptied (u8 runs longer than 255 blocks, many
//! short runs in one work unit) and where whole-array any/all stop early.

use stridewise::*;

fn naive<T: Element>(v: &[T]) -> u64 {
    v.iter().filter(|&&x| x != T::ZERO).count() as u64
}

#[test]
fn counts_match_a_plain_count_on_every_layout() {
    // u8: ones with a zero every 7th element; long runs, short rows, strided, reversed.
    let n = 600_000usize;
    let data: Vec<u8> = (0..n).map(|i| u8::from(i % 7 != 0)).collect();
    let want = naive(&data);
    for threads in [1, 2] {
        with_num_threads(threads, || {
            for shape in [[n, 1], [n / 2, 2], [2, n / 2], [n / 3, 3]] {
                let v = StridedView::contiguous(&data, &shape).unwrap();
                assert_eq!(count_nonzero(&v), want, "{shape:?}");
                let t = v.permuted(&[1, 0]).unwrap();
                assert_eq!(count_nonzero(&t), want, "{shape:?} transposed");
                // Per row and per column against the plain count.
                let rows = count_nonzero_axes(&v, &[1]).unwrap();
                for (r, &c) in rows.data.iter().enumerate() {
                    let row = &data[r * shape[1]..(r + 1) * shape[1]];
                    assert_eq!(c as u64, naive(row), "{shape:?} row {r}");
                }
                let cols = count_nonzero_axes(&v, &[0]).unwrap();
                assert_eq!(cols.data.iter().map(|&c| c as u64).sum::<u64>(), want);
            }
            let step = StridedView::contiguous(&data, &[n]).unwrap();
            let odd = step.sliced(0, 1, n, 2).unwrap();
            let want_odd = data.iter().skip(1).step_by(2).filter(|&&x| x != 0).count();
            assert_eq!(count_nonzero(&odd), want_odd as u64);
            let back = step.sliced(0, n - 1, usize::MAX, -1).unwrap();
            assert_eq!(count_nonzero(&back), want);
        });
    }
}

#[test]
fn floats_count_nan_and_not_negative_zero() {
    let mut x = vec![0.0f64; 100_003];
    x[5] = f64::NAN;
    x[70_000] = -0.0;
    x[99_999] = 2.5;
    let v = StridedView::contiguous(&x, &[x.len()]).unwrap();
    assert_eq!(count_nonzero(&v), 2);
    assert!(any(&v) && !all(&v));
    let f: Vec<f32> = x.iter().map(|&a| a as f32).collect();
    let w = StridedView::contiguous(&f, &[f.len()]).unwrap();
    assert_eq!(count_nonzero(&w), 2);
}

#[test]
fn any_and_all_decide_wherever_the_deciding_element_is() {
    let n = 1 << 20;
    for pos in [0, 1, 4095, 4096, 70_000, n / 2, n - 1] {
        let mut zeros = vec![0u16; n];
        zeros[pos] = 3;
        let mut ones = vec![1u16; n];
        ones[pos] = 0;
        for shape in [[n, 1], [1024, 1024]] {
            let z = StridedView::contiguous(&zeros, &shape).unwrap();
            let o = StridedView::contiguous(&ones, &shape).unwrap();
            assert!(any(&z) && !all(&z), "pos {pos} {shape:?}");
            assert!(!all(&o) && any(&o), "pos {pos} {shape:?}");
            // Column-major: the outermost axis in memory is the last one.
            let zt = z.permuted(&[1, 0]).unwrap();
            assert!(any(&zt) && !all(&zt.permuted(&[1, 0]).unwrap()));
        }
    }
    let none = vec![0i64; 1 << 16];
    let v = StridedView::contiguous(&none, &[none.len()]).unwrap();
    assert!(!any(&v) && !all(&v));
    let empty: [f64; 0] = [];
    let e = StridedView::contiguous(&empty, &[0]).unwrap();
    assert!(!any(&e) && all(&e) && count_nonzero(&e) == 0);
}

/// Columns counted by the vertical path (a byte tally per output, emptied every 32 rows):
/// exact per column for row counts past 255 and around the flushes, contiguous rows (four
/// at a time) and strided ones (one at a time), every level.
#[test]
fn column_counts_are_exact_past_the_byte_tallies() {
    fn check<T: Element>(one: T) {
        for (rows, cols) in [
            (33usize, 5usize),
            (255, 9),
            (256, 64),
            (1003, 37),
            (700, 1030),
        ] {
            // Column c is nonzero except at rows r with (r + c) % 5 == 0.
            let data: Vec<T> = (0..rows * cols)
                .map(|i| {
                    if (i / cols + i % cols) % 5 == 0 {
                        T::ZERO
                    } else {
                        one
                    }
                })
                .collect();
            let v = StridedView::contiguous(&data, &[rows, cols]).unwrap();
            let want = |c: usize| (0..rows).filter(|r| (r + c) % 5 != 0).count() as u64;
            for level in available_simd_levels() {
                with_simd_level(level, || {
                    let got = count_nonzero_axes(&v, &[0]).unwrap();
                    for c in 0..cols {
                        assert_eq!(
                            got.data[c] as u64,
                            want(c),
                            "{rows}x{cols} col {c} {level:?}"
                        );
                    }
                    // Every other column: rows of stride 2.
                    let odd = v.sliced(1, 1, usize::MAX, 2).unwrap();
                    let got = count_nonzero_axes(&odd, &[0]).unwrap();
                    for (k, &g) in got.data.iter().enumerate() {
                        assert_eq!(g as u64, want(2 * k + 1), "{rows}x{cols} odd col {k}");
                    }
                    let all_ = all_axes(&v, &[0]).unwrap();
                    assert!(
                        all_.data.iter().all(|&b| !b),
                        "{rows}x{cols}: a zero in each"
                    );
                });
            }
        }
    }
    check(1u8);
    check(-3i32);
    check(0.5f64);
    check(f32::NAN);
}
