//! ptp against max - min, on layouts of both paths; wrapping and NaN as numpy.

use stridewise::*;

#[test]
fn ptp_is_max_minus_min_on_every_path() {
    let (rows, cols) = (301usize, 77usize);
    let data: Vec<i16> = (0..rows * cols)
        .map(|i| ((i * 7919) % 65_521) as i16)
        .collect();
    let v = StridedView::contiguous(&data, &[rows, cols]).unwrap();
    for threads in [1, 2] {
        with_num_threads(threads, || {
            for view in [
                v.clone(),
                v.permuted(&[1, 0]).unwrap(),
                v.sliced(1, cols - 1, usize::MAX, -2).unwrap(),
            ] {
                let whole = ptp(&view).unwrap();
                assert_eq!(whole, max(&view).unwrap().wrapping_sub(min(&view).unwrap()));
                for axis in [0isize, 1] {
                    let r = ptp_axes(&view, &[axis]).unwrap();
                    let hi = max_axes(&view, &[axis]).unwrap();
                    let lo = min_axes(&view, &[axis]).unwrap();
                    let want: Vec<i16> = hi
                        .data
                        .iter()
                        .zip(&lo.data)
                        .map(|(h, l)| h.wrapping_sub(*l))
                        .collect();
                    assert_eq!(r.data, want, "axis {axis}");
                }
            }
        });
    }
}

#[test]
fn ptp_wraps_propagates_nan_and_refuses_empty_and_bool() {
    let x = [-128i8, 127];
    assert_eq!(
        ptp(&StridedView::contiguous(&x, &[2]).unwrap()).unwrap(),
        -1
    );
    let mut f = vec![1.5f64; 5000];
    f[4321] = f64::NAN;
    assert!(ptp(&StridedView::contiguous(&f, &[5000]).unwrap())
        .unwrap()
        .is_nan());
    f[4321] = -2.0;
    assert_eq!(
        ptp(&StridedView::contiguous(&f, &[5000]).unwrap()).unwrap(),
        3.5
    );
    let empty: [f32; 0] = [];
    assert!(matches!(
        ptp(&StridedView::contiguous(&empty, &[0]).unwrap()),
        Err(ReduceError::EmptyMinMax { .. })
    ));
    let b = [true, false];
    assert_eq!(
        ptp(&StridedView::contiguous(&b, &[2]).unwrap()),
        Err(ReduceError::BoolSubtract)
    );
}
