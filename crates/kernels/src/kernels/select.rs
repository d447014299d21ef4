//! Order statistics: what median, quantile and percentile (and their nan-variants) select.
//!
//! **Semantics.** An output's values are its reduced positions' elements, in any order (a
//! multiset: selection does not depend on the layout). NaN sorts after every number, as in
//! numpy's sort and partition, so the sorted values are the `count` numbers ascending, then
//! the NaNs. Rank `r` (0-based) of an output is element `r` of that order: a number when
//! `r < count`, else NaN. Ties are equal values (`-0.0 == 0.0`): which of two equal elements
//! is returned is not specified, as in numpy's partition.
//!
//! **Algorithm.** Each output's numbers are copied into a scratch buffer (NaNs left out and
//! counted), and the wanted ranks are selected in it: the middle wanted rank by introselect
//! (`select_nth_unstable`, linear time), then the ranks left of it in the left part and the
//! ranks right of it in the right part, recursively (`O(n log k)` for `k` ranks); from
//! `SORT_FROM` distinct ranks the buffer is sorted instead. The caller's array is never
//! written. The interpolation between two order statistics (numpy's methods) is the caller's
//! (the Python layer applies numpy's own formulas to them).

use crate::element::Element;
use std::cmp::Ordering;

/// Distinct ranks from which an output's buffer is sorted rather than partitioned for each.
pub(crate) const SORT_FROM: usize = 24;

/// The order of two numbers (no NaN reaches it).
#[inline(always)]
pub(crate) fn order<T: Element>(a: &T, b: &T) -> Ordering {
    a.partial_cmp(b).unwrap_or(Ordering::Equal)
}

/// Rearrange `v` so that `v[r]` is its `r`-th smallest element for every `r` in `ranks`
/// (ascending, distinct, each `< v.len()`). `v` holds no NaN.
pub(crate) fn select_ranks<T: Element>(v: &mut [T], ranks: &[usize]) {
    if ranks.len() >= SORT_FROM {
        v.sort_unstable_by(order::<T>);
        return;
    }
    select_in(v, 0, ranks);
}

/// [`select_ranks`] on `v`, the positions `first..` of the whole buffer.
fn select_in<T: Element>(v: &mut [T], first: usize, ranks: &[usize]) {
    if ranks.is_empty() || v.len() < 2 {
        return;
    }
    let m = ranks.len() / 2;
    let r = ranks[m] - first;
    let (left, _, right) = v.select_nth_unstable_by(r, order::<T>);
    select_in(left, first, &ranks[..m]);
    select_in(right, first + r + 1, &ranks[m + 1..]);
}

/// Copy the numbers of `src` to `dst[count..]`, leaving NaNs out; returns the new count.
/// `dst` has room for all of `src` after `count`.
#[inline(always)]
pub(crate) fn push_numbers<T: Element>(
    dst: &mut [T],
    mut count: usize,
    src: impl Iterator<Item = T>,
) -> usize {
    if T::IS_FLOAT {
        for x in src {
            // Written always, kept when a number: no branch on the data.
            dst[count] = x;
            count += usize::from(!x.is_nan());
        }
    } else {
        for x in src {
            dst[count] = x;
            count += 1;
        }
    }
    count
}

/// The values of `ranks` (any order, repeats allowed, each `< len`) of an output whose
/// `count` numbers are `buf[..count]` (rearranged), written to `out` in the order of `ranks`:
/// NaN for a rank at or past `count`. `sorted` is scratch for the distinct ranks.
pub(crate) fn answer<T: Element>(
    buf: &mut [T],
    count: usize,
    ranks: &[usize],
    sorted: &mut Vec<usize>,
    out: &mut [T],
) {
    sorted.clear();
    sorted.extend(ranks.iter().copied().filter(|&r| r < count));
    sorted.sort_unstable();
    sorted.dedup();
    select_ranks(&mut buf[..count], sorted);
    for (o, &r) in out.iter_mut().zip(ranks) {
        *o = if r < count { buf[r] } else { T::NAN };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift).
    fn data(n: usize, seed: u64, modulo: u64) -> Vec<f64> {
        let mut s = seed.max(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s % modulo) as f64 - (modulo / 2) as f64
            })
            .collect()
    }

    #[test]
    fn selected_ranks_match_a_sort() {
        for (n, modulo) in [
            (1, 10),
            (2, 10),
            (7, 3),
            (100, 1000),
            (1000, 5),
            (5000, 1 << 40),
        ] {
            let v = data(n, n as u64 * 31 + 7, modulo);
            let mut want = v.clone();
            want.sort_by(|a, b| a.partial_cmp(b).unwrap());
            for ranks in [
                vec![0],
                vec![n - 1],
                vec![n / 2, n / 3, n / 2],
                (0..n).step_by(n.div_ceil(40)).collect(),
            ] {
                let mut buf = v.clone();
                let mut out = vec![0.0; ranks.len()];
                answer(&mut buf, n, &ranks, &mut Vec::new(), &mut out);
                for (&r, &o) in ranks.iter().zip(&out) {
                    assert_eq!(o, want[r], "n {n} rank {r}");
                }
            }
        }
    }

    #[test]
    fn nans_are_left_out_and_sort_last() {
        let src = [3.0, f64::NAN, 1.0, f64::NAN, 2.0];
        let mut buf = [0.0; 5];
        let count = push_numbers(&mut buf, 0, src.iter().copied());
        assert_eq!(count, 3);
        let mut out = [0.0; 4];
        answer(&mut buf, count, &[0, 2, 3, 1], &mut Vec::new(), &mut out);
        assert_eq!(out[0], 1.0);
        assert_eq!(out[1], 3.0);
        assert!(out[2].is_nan());
        assert_eq!(out[3], 2.0);
    }

    #[test]
    fn integers_keep_every_element() {
        let src = [5i64, i64::MIN, i64::MAX, 0, -1];
        let mut buf = [0i64; 5];
        let count = push_numbers(&mut buf, 0, src.iter().copied());
        assert_eq!(count, 5);
        let mut out = [0i64; 5];
        answer(&mut buf, count, &[4, 3, 2, 1, 0], &mut Vec::new(), &mut out);
        assert_eq!(out, [i64::MAX, 5, 0, -1, i64::MIN]);
    }
}
