//! Reductions of the crate's other ways in: `AlignedArray` (padding never read) and, with the
//! `ndarray` feature, `ndarray` views.

use stridewise::*;

#[test]
fn aligned_arrays_reduce_without_their_padding() {
    let f = AlignedArray::<f64>::full(&[3, 5], 2.5, 64).unwrap();
    assert_eq!(sum(&f.view()), 37.5);
    assert_eq!(mean(&f.view()).value, 2.5);
    let z = AlignedArray::<f64>::zeros(&[1000, 999], 64).unwrap();
    assert_eq!(sum(&z.view()), 0.0);
}

#[cfg(feature = "ndarray")]
#[test]
fn views_of_ndarray_reduce_like_ndarray() {
    use ndarray::{s, Array2};
    let a = Array2::from_shape_fn((7, 9), |(i, j)| (i * 9 + j) as f64);
    for v in [
        a.view(),
        a.t(),
        a.slice(s![..;-1, 1..;2]),
        a.slice(s![2, ..]).insert_axis(ndarray::Axis(0)),
    ] {
        assert_eq!(sum(&StridedView::from(v)), v.sum());
    }
    assert_eq!(sum(&StridedView::from(&a)), a.sum());
}

/// Bool memory from numpy may hold any byte; nonzero is true, as numpy reads it.
#[test]
fn bool_bytes_other_than_0_and_1() {
    use stridewise::{Op, RawArray, Values};
    let bytes: Vec<u8> = [0u8, 2, 255, 1, 3].repeat(1000);
    // A C-ordered 50x100 bool array.
    let a = RawArray::new(&bytes, 0, ElemType::Bool, &[50, 100], &[100, 1]).expect("readable");
    let run = |op: Op, over: Option<&[isize]>| a.reduce(op, over, 0.0).expect("valid").values;
    assert_eq!(run(Op::Sum, None), Values::I64(vec![4000]));
    assert_eq!(run(Op::Mean, None), Values::F64(vec![0.8]));
    assert_eq!(run(Op::Min, None), Values::Bool(vec![false]));
    assert_eq!(run(Op::Max, None), Values::Bool(vec![true]));
    // Column j holds byte [0, 2, 255, 1, 3][j % 5] in every row.
    let cols: Vec<i64> = (0..100).map(|j| if j % 5 == 0 { 0 } else { 50 }).collect();
    assert_eq!(run(Op::Sum, Some(&[0])), Values::I64(cols));
    let mins: Vec<bool> = (0..100).map(|j| j % 5 != 0).collect();
    assert_eq!(run(Op::Min, Some(&[0])), Values::Bool(mins));
    // The exact variance of 80% ones is 0.8 * 0.2; the kernels promise one ulp.
    let Values::F64(var) = run(Op::Var, None) else {
        panic!("var of bool is f64")
    };
    assert!(
        (var[0] - 0.16).abs() <= 0.16 * f64::EPSILON,
        "var {}",
        var[0]
    );
}

/// A raw array reduces what its description says, negative strides included.
#[test]
fn raw_arrays_reduce_what_they_describe() {
    use stridewise::{Op, RawArray, Values};
    let data: Vec<u64> = (1..=6).collect(); // 2x3, C order
                                            // SAFETY: the Vec's 48 initialised bytes; u8 has alignment 1.
    let m = unsafe { std::slice::from_raw_parts(data.as_ptr().cast::<u8>(), 48) };
    let a = RawArray::new(m, 0, ElemType::U64, &[2, 3], &[24, 8]).unwrap();
    assert_eq!(
        (a.len(), a.shape(), a.byte_strides()),
        (6, &[2, 3][..], &[24, 8][..])
    );
    let s = a.reduce(Op::Sum, Some(&[0]), 0.0).unwrap();
    assert_eq!(s.values, Values::U64(vec![5, 7, 9]));
    // The transpose, read backwards along its first axis: [[3, 6], [2, 5], [1, 4]].
    let t = RawArray::new(m, 16, ElemType::U64, &[3, 2], &[-8, 24]).unwrap();
    let mx = t.reduce(Op::Max, Some(&[1]), 0.0).unwrap();
    assert_eq!(mx.values, Values::U64(vec![6, 5, 4]));
    let mean = t.reduce(Op::Mean, None, 0.0).unwrap();
    assert_eq!((mean.shape, mean.values), (vec![], Values::F64(vec![3.5])));
}
