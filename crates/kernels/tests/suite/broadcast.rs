//! Broadcast (stride-0) axes are read once: the results agree with those of the same values
//! materialised, and a repeated element is counted exactly.

use crate::common::*;
use stridewise::*;

/// Every reduction of views with broadcast axes, reduced and kept, against the same values
/// copied into a C-ordered array.
fn broadcast_agrees_with_a_copy<T: TestElem>(seed: u64) {
    let mut rng = Rng(seed);
    // A (5, 1, 7) block with NaN in some places, broadcast to (5, 9, 7) and (3, 5, 9, 7).
    let mut data: Vec<T> = (0..35).map(|_| T::random(&mut rng)).collect();
    if let Some(nan) = T::nan() {
        data[3] = nan;
        for r in 0..5 {
            data[r * 7 + 6] = nan; // one column all NaN
        }
    }
    let shapes: [(&[usize], &[isize]); 4] = [
        (&[5, 9, 7], &[7, 0, 1]),
        (&[3, 5, 9, 7], &[0, 7, 0, 1]),
        // The block's columns backwards, the broadcast axis innermost.
        (&[5, 7, 9], &[7, -1, 0]),
        // One broadcast axis only: every element of a row the same.
        (&[35, 4], &[1, 0]),
    ];
    for (shape, strides) in shapes {
        let offset = if strides.contains(&-1) { 6 } else { 0 };
        let view = StridedView::from_slice(&data, offset, shape, strides).unwrap();
        let copy = elements(&view);
        let plain = StridedView::contiguous(&copy, shape).unwrap();
        let n = shape.len() as isize;
        let mut axis_sets: Vec<Option<Vec<isize>>> = vec![None];
        for a in 0..n {
            axis_sets.push(Some(vec![a]));
            for b in a + 1..n {
                axis_sets.push(Some(vec![a, b]));
            }
        }
        for op in Op::ALL {
            for axes in &axis_sets {
                let what = format!("{op:?} of {} {shape:?} {strides:?} over {axes:?}", T::NAME);
                let axes = axes.as_deref();
                let got = reduce(op, &view, axes, 1.0);
                assert_agree::<T>(op, &what, got, reduce(op, &plain, axes, 1.0));
            }
        }
    }
}

#[test]
fn broadcast_axes_agree_with_a_copy_for_every_type() {
    broadcast_agrees_with_a_copy::<f64>(21);
    broadcast_agrees_with_a_copy::<f32>(22);
    broadcast_agrees_with_a_copy::<i8>(23);
    broadcast_agrees_with_a_copy::<i64>(24);
    broadcast_agrees_with_a_copy::<u16>(25);
    broadcast_agrees_with_a_copy::<u64>(26);
    broadcast_agrees_with_a_copy::<bool>(27);
}

/// One element repeated n times sums to n times it, rounded once (numpy's n-fold sum of 0.1
/// drifts); its variance is exactly 0; integer sums wrap as numpy's.
#[test]
fn a_repeated_element_is_counted_exactly() {
    let x = [0.1f64];
    let n = 10_000_000usize;
    let v = StridedView::from_slice(&x, 0, &[n], &[0]).unwrap();
    // The exact product 0.1 * 1e7 (0.1 as a double), rounded once: 1000000.0000000000555...
    // rounds to 1e6, while the plain product and numpy's pairwise sum may not.
    assert_eq!(sum(&v), 1e6);
    assert_eq!(mean(&v).value, 0.1);
    assert_eq!(var(&v, 0.0).value, 0.0);
    // A row of three broadcast over 2^20 rows, column sums and the whole.
    let row = [1.0f64 / 3.0, 1e300, -7.25];
    let m = StridedView::from_slice(&row, 0, &[1 << 20, 3], &[0, 1]).unwrap();
    let cols = sum_axes(&m, &[0]).unwrap();
    let want: Vec<f64> = row.iter().map(|&r| r * (1 << 20) as f64).collect();
    assert_eq!(cols.data, want);
    assert_eq!(sum(&m), fsum(want.iter().copied()));
    // i64::MAX repeated 4 times wraps to -4, as numpy's int64 sum does.
    let big = [i64::MAX];
    let b = StridedView::from_slice(&big, 0, &[4], &[0]).unwrap();
    assert_eq!(sum(&b), -4);
    assert_eq!(max(&b).unwrap(), i64::MAX);
}
