//! The weighted average (`average`, `average_axes`) against exact answers: data and weights
//! whose products and sums are exact in f64 (quarters and small integers), so the correctly
//! rounded quotient is one f64 division of the exact sums and the result must equal it
//! bitwise, on random layouts of both arrays (steps, reversed, permuted, broadcast, offset),
//! every axis set, element types mixed, every SIMD level and thread count. Then the cases
//! numpy gets wrong (cancellation) and numpy's errors.

use crate::common::{groups, Case, Rng};
use stridewise::*;

/// A view of `shape` over fresh data from `value`, in a random layout: random steps,
/// reversed and broadcast axes, memory order permuted, a leading offset.
fn laid_out<T: Copy + Default>(
    rng: &mut Rng,
    shape: &[usize],
    mut value: impl FnMut(&mut Rng) -> T,
) -> Case<T> {
    let rank = shape.len();
    let mut order: Vec<usize> = (0..rank).collect();
    for i in (1..rank).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let mut strides = vec![0isize; rank];
    let mut acc = 1isize;
    for &k in order.iter().rev() {
        let step = 1 + rng.below(2) as isize;
        if rng.below(6) != 0 || shape[k] <= 1 {
            strides[k] = acc * step;
            acc *= (shape[k].max(1) as isize) * step;
        }
    }
    let mut offset = rng.below(3) as isize;
    let base = offset;
    for k in 0..rank {
        if rng.below(3) == 0 && shape[k] > 0 {
            offset += strides[k] * (shape[k] as isize - 1);
            strides[k] = -strides[k];
        }
    }
    let n = (base + acc) as usize;
    let data = (0..n).map(|_| value(rng)).collect();
    Case {
        data,
        offset: offset as usize,
        shape: shape.to_vec(),
        strides,
    }
}

/// The exact answer per output (C order), from exact f64 sums: `None` for a zero weight sum.
fn reference<T: Element, W: Element>(
    a: &StridedView<'_, T>,
    w: &StridedView<'_, W>,
    axes: &[usize],
) -> Vec<Option<Averaged>> {
    let (_, ga) = groups(a, axes);
    let (_, gw) = groups(w, axes);
    ga.iter()
        .zip(&gw)
        .map(|(xs, ws)| {
            let num: f64 = xs
                .iter()
                .zip(ws)
                .map(|(x, y)| x.to_f64() * y.to_f64())
                .sum();
            let den: f64 = ws.iter().map(|y| y.to_f64()).sum();
            (den != 0.0).then(|| Averaged {
                average: num / den,
                weight_sum: den,
            })
        })
        .collect()
}

fn every_level_and_threads(mut f: impl FnMut(&str)) {
    for level in available_simd_levels() {
        for threads in [1, 2, 3] {
            with_simd_level(level, || {
                with_num_threads(threads, || f(&format!("{level:?} {threads} threads")))
            });
        }
    }
}

/// Every subset of the axes, as numpy-style axis lists.
fn subsets(rank: usize) -> Vec<Vec<usize>> {
    (0..1usize << rank)
        .map(|m| (0..rank).filter(|k| m >> k & 1 == 1).collect())
        .collect()
}

fn check<T: Element, W: Element>(a: &StridedView<'_, T>, w: &StridedView<'_, W>, what: &str) {
    for axes in subsets(a.ndim()) {
        let want = reference(a, w, &axes);
        let signed: Vec<isize> = axes.iter().map(|&k| k as isize).collect();
        match average_axes(a, w, &signed) {
            Ok(r) => {
                assert_eq!(r.data.len(), want.len(), "{what} {axes:?}");
                for (got, want) in r.data.iter().zip(&want) {
                    assert_eq!(Some(*got), *want, "{what} {axes:?} {:?}", a.shape());
                }
            }
            Err(ReduceError::WeightsSumZero) => {
                assert!(want.iter().any(Option::is_none), "{what} {axes:?}")
            }
            Err(e) => panic!("{what} {axes:?}: {e}"),
        }
    }
}

fn v(d: &[f64; 3]) -> StridedView<'_, f64> {
    StridedView::contiguous(d, &[3]).unwrap()
}

fn view<T: Element>(c: &Case<T>) -> StridedView<'_, T> {
    StridedView::from_slice(&c.data, c.offset, &c.shape, &c.strides).unwrap()
}

fn quarter(rng: &mut Rng) -> f64 {
    rng.below(4001) as f64 / 4.0 - 500.0
}

#[test]
fn random_layouts_are_exact() {
    let mut rng = Rng(11);
    for case in 0..60 {
        let rank = 1 + rng.below(3) as usize;
        let shape: Vec<usize> = (0..rank)
            .map(|_| match rng.below(10) {
                0 => 1,
                1 => 40 + rng.below(60) as usize,
                _ => 1 + rng.below(9) as usize,
            })
            .collect();
        let a = laid_out(&mut rng, &shape, quarter);
        let a32 = laid_out(&mut rng, &shape, |r| quarter(r) as f32);
        let ai = laid_out(&mut rng, &shape, |r| r.below(200) as i16 - 100);
        let w = laid_out(&mut rng, &shape, |r| r.below(9) as f64);
        let wu = laid_out(&mut rng, &shape, |r| r.below(5) as u8);
        let wb = laid_out(&mut rng, &shape, |r| r.below(3) != 0);
        every_level_and_threads(|what| {
            let what = format!("case {case} {what}");
            check(&view(&a), &view(&w), &what);
            check(&view(&a32), &view(&wu), &what);
            check(&view(&ai), &view(&w), &what);
            check(&view(&a), &view(&wb), &what);
        });
    }
}

/// Long reductions (cut into pieces for the threads) and wide ones (vertical tiles cut into
/// blocks) on every path, contiguous and transposed.
#[test]
fn large_inputs_are_exact_on_every_path() {
    let mut rng = Rng(5);
    let (rows, cols) = (700usize, 300usize);
    let a = laid_out(&mut rng, &[rows, cols], quarter);
    let data: Vec<f64> = (0..rows * cols).map(|_| quarter(&mut rng)).collect();
    let ws: Vec<f32> = (0..rows * cols).map(|_| rng.below(7) as f32).collect();
    let c = StridedView::contiguous(&data, &[rows, cols]).unwrap();
    let w = StridedView::contiguous(&ws, &[rows, cols]).unwrap();
    every_level_and_threads(|what| {
        check(&c, &w, what);
        check(
            &c.permuted(&[1, 0]).unwrap(),
            &w.permuted(&[1, 0]).unwrap(),
            what,
        );
        check(&view(&a), &w, what);
        check(
            &c,
            &w.permuted(&[1, 0]).unwrap().permuted(&[1, 0]).unwrap(),
            what,
        );
    });
}

/// Weights given along the reduced axes only (numpy's `weights` of shape `a.shape[axis]`),
/// in the order the axes are named; a wrong shape is numpy's ValueError.
#[test]
fn weights_along_the_reduced_axes() {
    let data: Vec<f64> = (0..24).map(f64::from).collect();
    let a = StridedView::contiguous(&data, &[2, 3, 4]).unwrap();
    let w1 = [1.0, 2.0, 0.0];
    let wv = StridedView::contiguous(&w1, &[3]).unwrap();
    let r = average_axes(&a, &wv, &[1]).unwrap();
    assert_eq!(r.shape, vec![2, 4]);
    for i in 0..2 {
        for k in 0..4 {
            let x = |j: usize| data[i * 12 + j * 4 + k];
            assert_eq!(r.data[i * 4 + k].average, (x(0) + 2.0 * x(1)) / 3.0);
        }
    }
    // Weights for axes (2, 0), named in that order: shape (4, 2).
    let w2: Vec<f64> = (1..=8).map(f64::from).collect();
    let wv2 = StridedView::contiguous(&w2, &[4, 2]).unwrap();
    let r = average_axes(&a, &wv2, &[2, 0]).unwrap();
    for j in 0..3 {
        let (mut num, mut den) = (0.0, 0.0);
        for i in 0..2 {
            for k in 0..4 {
                num += data[i * 12 + j * 4 + k] * w2[k * 2 + i];
                den += w2[k * 2 + i];
            }
        }
        assert_eq!(r.data[j].average, num / den);
    }
    assert_eq!(
        average_axes(&a, &wv2, &[0, 2]).unwrap_err(),
        ReduceError::WeightsShape
    );
    assert_eq!(average(&a, &wv).unwrap_err(), ReduceError::WeightsShape);
}

/// Products and sums are carried exactly enough that cancellation does not matter, where
/// numpy's `np.multiply(a, w).sum() / w.sum()` gives 0 or garbage; NaN and inf follow the
/// products; zero weight sums are numpy's ZeroDivisionError.
#[test]
fn cancellation_special_values_and_errors() {
    every_level_and_threads(|what| {
        let data = [1e16, 1.0, -1e16, 2.0, 1e300];
        let ws = [3.0, 1.0, 3.0, 1.0, 0.0];
        let a = StridedView::contiguous(&data, &[5]).unwrap();
        let w = StridedView::contiguous(&ws, &[5]).unwrap();
        let r = average(&a, &w).unwrap();
        assert_eq!((r.average, r.weight_sum), (3.0 / 8.0, 8.0), "{what}");
        // (1 + 2^-30)(1 - 2^-30) - 1 = -2^-60: only the products' rounding errors are left.
        let (a, w) = ([1.0 + 2f64.powi(-30), -1.0], [1.0 - 2f64.powi(-30), 1.0]);
        let av = StridedView::contiguous(&a, &[2]).unwrap();
        let wv = StridedView::contiguous(&w, &[2]).unwrap();
        let want = -(2f64.powi(-60)) / (2.0 - 2f64.powi(-30));
        assert_eq!(average(&av, &wv).unwrap().average, want, "{what}");
        let nan = [1.0, f64::NAN, 2.0];
        let inf = [1.0, f64::INFINITY, 2.0];
        let one = [1.0; 3];
        assert!(average(&v(&nan), &v(&one)).unwrap().average.is_nan());
        assert_eq!(average(&v(&inf), &v(&one)).unwrap().average, f64::INFINITY);
        let zeroed = [1.0, 0.0, 2.0];
        // inf * 0 is NaN, as numpy's product.
        assert!(average(&v(&inf), &v(&zeroed)).unwrap().average.is_nan());
        let cancel = [1.0, -1.0, 0.0];
        assert_eq!(
            average(&v(&one), &v(&cancel)).unwrap_err(),
            ReduceError::WeightsSumZero
        );
        let empty: [f64; 0] = [];
        let e = StridedView::contiguous(&empty, &[0]).unwrap();
        assert_eq!(average(&e, &e).unwrap_err(), ReduceError::WeightsSumZero);
        // No outputs: nothing to divide, no error (numpy returns an empty array).
        let e2 = StridedView::contiguous(&empty, &[0, 3]).unwrap();
        assert!(average_axes(&e2, &e2, &[1]).unwrap().data.is_empty());
    });
}

/// Lanes whose running sums pass the largest float (`9e307 + 9e307`, then `inf - inf`)
/// where the exact sums are small: those outputs are summed again exactly (NaN before).
#[test]
fn sums_past_the_largest_float_stay_finite_where_the_exact_one_is() {
    let ws = [9e307, -9e307, 3.0];
    // Rows of one value each (1 and 0.5): their averages do not depend on the weights.
    let data = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5];
    let long: Vec<f64> = (0..3000)
        .map(|k| [9e307, 9e307, -9e307, -9e307, 1.0][k % 5])
        .collect();
    let ones = vec![1.0; 3000];
    every_level_and_threads(|what| {
        let a = StridedView::contiguous(&data, &[2, 3]).unwrap();
        let w = StridedView::contiguous(&ws, &[3]).unwrap();
        let both = StridedView::from_slice(&ws, 0, &[2, 3], &[0, 1]).unwrap();
        let all = average_axes(&a, &both, &[0, 1]).unwrap();
        assert_eq!(all.data[0].average, 0.75, "{what}");
        assert_eq!(all.data[0].weight_sum, 6.0, "{what}");
        let rows = average_axes(&a, &w, &[1]).unwrap();
        let got: Vec<f64> = rows.data.iter().map(|r| r.average).collect();
        assert_eq!(got, vec![1.0, 0.5], "{what}");
        let wl = StridedView::contiguous(&long, &[3000]).unwrap();
        let al = StridedView::contiguous(&ones, &[3000]).unwrap();
        assert_eq!(average(&al, &wl).unwrap().average, 1.0, "{what}");
        let wt = StridedView::contiguous(&long, &[600, 5])
            .unwrap()
            .permuted(&[1, 0])
            .unwrap();
        let at = StridedView::contiguous(&ones, &[5, 600]).unwrap();
        let cols = average_axes(&at, &wt, &[0]).unwrap();
        assert!(cols.data.iter().all(|r| r.average == 1.0), "{what}");
    });
}
