//! `ndarray` interop (feature `ndarray`): any `ArrayView` is a [`StridedView`].

use crate::layout::StridedView;
use ndarray::{ArrayView, Dimension};

impl<'a, T, D: Dimension> From<ArrayView<'a, T, D>> for StridedView<'a, T> {
    fn from(a: ArrayView<'a, T, D>) -> Self {
        let strides: Vec<isize> = a.strides().to_vec();
        // SAFETY: an ArrayView guarantees that every in-range index addresses a valid, shared
        // `T` for 'a, and its strides are in elements like ours.
        unsafe { StridedView::from_raw_parts(a.as_ptr(), a.shape(), &strides) }
    }
}

impl<'a, T, D: Dimension> From<&'a ndarray::ArrayBase<ndarray::OwnedRepr<T>, D>>
    for StridedView<'a, T>
{
    fn from(a: &'a ndarray::ArrayBase<ndarray::OwnedRepr<T>, D>) -> Self {
        a.view().into()
    }
}

#[cfg(test)]
mod tests {
    use crate::StridedView;
    use ndarray::{s, Array2};

    #[test]
    fn views_of_ndarray_address_the_same_elements() {
        let a = Array2::from_shape_fn((7, 9), |(i, j)| (i * 9 + j) as f64);
        for v in [
            a.view(),
            a.t(),
            a.slice(s![..;-1, 1..;2]),
            a.slice(s![2, ..]).insert_axis(ndarray::Axis(0)),
        ] {
            let sv = StridedView::from(v.view());
            assert_eq!(sv.shape(), v.shape());
            for ((i, j), x) in v.indexed_iter() {
                assert_eq!(sv.get(&[i, j]), Some(x));
            }
        }
        let whole = StridedView::from(&a);
        assert_eq!(
            (whole.shape(), whole.strides()),
            (&[7usize, 9][..], &[9isize, 1][..])
        );
    }
}
