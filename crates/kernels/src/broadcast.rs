//! Broadcast axes (stride 0, as `np.broadcast_to` makes them) are read once.
//!
//! Along such an axis every index holds the same element. So a reduction reads the array with
//! each of them cut to length 1, then:
//! - a **reduced** broadcast axis of length `n` counts each element `n` times: the states are
//!   repeated ([`Partials::repeated`]: sums times `n`, exactly for integers and with one
//!   rounding for floats; `(n, mean, M2)` scaled; min/max unchanged);
//! - a **kept** broadcast axis has equal outputs along it: they are computed once and copied
//!   ([`Partials::broadcast_to`]).
//!
//! numpy reads every index (a broadcast row of 1e4 summed over 1e4 rows reads 1e8 elements);
//! this reads 1e4. The result is that of the values, computed more accurately than numpy's
//! `n`-fold sum; like any other layout, not bitwise the result of a materialised copy.

use crate::layout::{next_c_index, resolve_axes};
use crate::partials::Partials;

/// How a description with broadcast axes is read (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The shape with every broadcast axis cut to 1.
    pub shape: Vec<usize>,
    /// The product of the reduced broadcast axes' lengths: how often each element counts.
    pub factor: u64,
    /// The output shape of the full description (its kept axes).
    pub out_shape: Vec<usize>,
}

/// The axes of length > 1 with stride 0 (empty when the array has no elements: then
/// nothing is read anyway).
pub(crate) fn axes(shape: &[usize], strides: &[isize]) -> Vec<usize> {
    if shape.contains(&0) {
        return Vec::new();
    }
    (0..shape.len())
        .filter(|&k| strides[k] == 0 && shape[k] > 1)
        .collect()
}

/// The plan for a reduction over `over` (`None`: every axis) of `shape` with element
/// `strides`; `None` when no axis is broadcast, or `over` is invalid (the plain path then
/// reports the error), or the count overflows `u64`.
pub(crate) fn plan(shape: &[usize], strides: &[isize], over: Option<&[isize]>) -> Option<Plan> {
    let cut = axes(shape, strides);
    if cut.is_empty() {
        return None;
    }
    let reduced = match over {
        None => (0..shape.len()).collect(),
        Some(a) => resolve_axes(a, shape.len()).ok()?,
    };
    let mut factor = 1u64;
    let mut small = shape.to_vec();
    for &k in &cut {
        if reduced.contains(&k) {
            factor = factor.checked_mul(shape[k] as u64)?;
        }
        small[k] = 1;
    }
    let out_shape = (0..shape.len())
        .filter(|k| !reduced.contains(k))
        .map(|k| shape[k])
        .collect();
    Some(Plan {
        shape: small,
        factor,
        out_shape,
    })
}

impl Plan {
    /// The partials of the full description from those of the cut one.
    pub fn expand(&self, p: Partials) -> Partials {
        p.repeated(self.factor).broadcast_to(&self.out_shape)
    }
}

/// For each output of `to` (C order), the index (C order) of the output of `from` it copies:
/// `from` is `to` with some axes of length 1.
pub(crate) fn sources(from: &[usize], to: &[usize]) -> Vec<usize> {
    debug_assert_eq!(from.len(), to.len());
    let n: usize = to.iter().product();
    let mut idx = vec![0usize; to.len()];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let mut src = 0;
        for (k, &i) in idx.iter().enumerate() {
            src = src * from[k] + if from[k] == 1 { 0 } else { i };
        }
        out.push(src);
        next_c_index(&mut idx, to);
    }
    out
}

/// `v[i]` for each `i` of `idx`, in that order.
pub(crate) fn gather<T: Copy>(v: &[T], idx: &[usize]) -> Vec<T> {
    idx.iter().map(|&i| v[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_axes_are_the_stride_zero_ones_longer_than_one() {
        assert_eq!(axes(&[3, 4], &[0, 1]), vec![0]);
        assert_eq!(axes(&[1, 4], &[0, 1]), Vec::<usize>::new());
        assert_eq!(axes(&[3, 4, 5], &[0, 5, 0]), vec![0, 2]);
        // Empty arrays read nothing: nothing to cut.
        assert_eq!(axes(&[3, 0], &[0, 1]), Vec::<usize>::new());
    }

    #[test]
    fn plans_cut_broadcast_axes_and_count_the_reduced_ones() {
        // np.broadcast_to(row, (100, 7)).mean(axis=0): each output is one element, 100 times.
        let p = plan(&[100, 7], &[0, 1], Some(&[0])).unwrap();
        assert_eq!(
            p,
            Plan {
                shape: vec![1, 7],
                factor: 100,
                out_shape: vec![7]
            }
        );
        // ... axis=1: one output computed, copied 100 times.
        let p = plan(&[100, 7], &[0, 1], Some(&[-1])).unwrap();
        assert_eq!((p.shape, p.factor, p.out_shape), (vec![1, 7], 1, vec![100]));
        // Everything; two broadcast axes, one reduced.
        let p = plan(&[100, 7], &[0, 1], None).unwrap();
        assert_eq!((p.factor, p.out_shape), (100, vec![]));
        let p = plan(&[4, 5, 6], &[0, 6, 0], Some(&[2])).unwrap();
        assert_eq!(
            (p.shape, p.factor, p.out_shape),
            (vec![1, 5, 1], 6, vec![4, 5])
        );
        // Nothing broadcast, or a bad axis (left to the plain path's error).
        assert_eq!(plan(&[100, 7], &[7, 1], None), None);
        assert_eq!(plan(&[100, 7], &[0, 1], Some(&[2])), None);
    }

    #[test]
    fn sources_copy_along_the_cut_axes() {
        assert_eq!(sources(&[1, 3], &[2, 3]), vec![0, 1, 2, 0, 1, 2]);
        assert_eq!(sources(&[2, 1], &[2, 3]), vec![0, 0, 0, 1, 1, 1]);
        assert_eq!(sources(&[1, 1], &[2, 2]), vec![0; 4]);
        assert_eq!(
            sources(&[2, 1, 2], &[2, 2, 2]),
            vec![0, 1, 0, 1, 2, 3, 2, 3]
        );
        assert_eq!(sources(&[], &[]), vec![0]);
    }
}
