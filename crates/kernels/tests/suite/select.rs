//! Order statistics and medians against a sort of each output's elements, on the lane and
//! vertical walks (C, F, transposed, reversed, stepped, 3-d over two axes), with NaN, at one
//! and two threads.

use stridewise::*;

/// Each output's elements over `axes`, read through `get` (C order of the kept axes).
fn slices(v: &StridedView<'_, f64>, axes: &[usize]) -> Vec<Vec<f64>> {
    let shape = v.shape().to_vec();
    let kept: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
    let outs: usize = kept.iter().map(|&d| shape[d]).product();
    let mut res = vec![Vec::new(); outs];
    let mut idx = vec![0usize; shape.len()];
    for _ in 0..v.len() {
        let o = kept.iter().fold(0, |acc, &d| acc * shape[d] + idx[d]);
        res[o].push(*v.get(&idx).unwrap());
        layout::next_c_index(&mut idx, &shape);
    }
    res
}

fn sorted_nan_last(mut s: Vec<f64>) -> Vec<f64> {
    s.sort_by(|a, b| {
        a.partial_cmp(b)
            .unwrap_or_else(|| a.is_nan().cmp(&b.is_nan()))
    });
    s
}

/// `got` holds, for each output, its count of numbers and its elements at `ranks` of `want`
/// (its elements) sorted with NaN last.
fn assert_sorted_ranks(got: &OrderStatistics<f64>, want: &[Vec<f64>], ranks: &[usize], ctx: &str) {
    for (o, w) in want.iter().enumerate() {
        let numbers = w.iter().filter(|x| !x.is_nan()).count();
        assert_eq!(got.counts[o], numbers, "{ctx} output {o}");
        let s = sorted_nan_last(w.clone());
        for (j, &r) in ranks.iter().enumerate() {
            let g = got.values[o * ranks.len() + j];
            assert!(
                g == s[r] || (g.is_nan() && s[r].is_nan()),
                "{ctx} output {o} rank {r}: {g} vs {}",
                s[r]
            );
        }
    }
}

fn views(data: &[f64]) -> Vec<(&'static str, StridedView<'_, f64>)> {
    let m = StridedView::contiguous(data, &[60, 50]).unwrap();
    let c3 = StridedView::contiguous(data, &[10, 6, 50]).unwrap();
    vec![
        ("C", m.clone()),
        ("transposed", m.permuted(&[1, 0]).unwrap()),
        (
            "reversed",
            m.sliced(0, 59, usize::MAX, -1)
                .unwrap()
                .sliced(1, 49, usize::MAX, -1)
                .unwrap(),
        ),
        ("stepped", m.sliced(1, 1, 50, 3).unwrap()),
        ("cube", c3),
    ]
}

#[test]
fn order_statistics_are_the_sorted_elements_on_every_walk() {
    let mut data: Vec<f64> = (0..3000)
        .map(|i| ((i * 7919) % 1009) as f64 - 500.0)
        .collect();
    for i in (0..3000).step_by(97) {
        data[i] = f64::NAN;
    }
    for threads in [1, 2] {
        with_num_threads(threads, || {
            for (name, v) in views(&data) {
                let nd = v.ndim();
                let mut axes_sets: Vec<Vec<usize>> = (0..nd).map(|d| vec![d]).collect();
                axes_sets.push((0..nd).collect());
                if nd == 3 {
                    axes_sets.push(vec![0, 2]);
                }
                for axes in axes_sets {
                    let want = slices(&v, &axes);
                    assert!(
                        !want.is_empty() && !want[0].is_empty(),
                        "{name} {axes:?} {:?}",
                        v.shape()
                    );
                    let n = want[0].len();
                    let ranks = [0, n / 3, n / 2, n - 1, n / 2];
                    let ax: Vec<isize> = axes.iter().map(|&d| d as isize).collect();
                    let got = order_statistics(&v, Some(&ax), Ranks::Shared(&ranks)).unwrap();
                    assert_sorted_ranks(&got, &want, &ranks, &format!("{name} {axes:?}"));
                }
            }
        });
    }
}

#[test]
fn per_output_ranks_and_nan_skipping_medians() {
    let mut data: Vec<f64> = (0..3000).map(|i| ((i * 31) % 101) as f64).collect();
    // Row r of the 60x50 matrix holds r % 7 NaNs; row 59 only NaNs.
    for r in 0..60 {
        for c in 0..(r % 7) {
            data[r * 50 + c * 3] = f64::NAN;
        }
    }
    for x in &mut data[59 * 50..] {
        *x = f64::NAN;
    }
    let v = StridedView::contiguous(&data, &[60, 50]).unwrap();
    let want = slices(&v, &[1]);
    let plain = median_axes(&v, Some(&[1]), NanHandling::Propagate).unwrap();
    let skip = median_axes(&v, Some(&[1]), NanHandling::Ignore).unwrap();
    for (o, w) in want.into_iter().enumerate() {
        let numbers: Vec<f64> =
            sorted_nan_last(w.iter().copied().filter(|x| !x.is_nan()).collect());
        let c = numbers.len();
        if c < 50 {
            assert!(plain.data[o].is_nan(), "row {o}");
        }
        if c == 0 {
            assert!(skip.data[o].is_nan());
            continue;
        }
        let m = if c % 2 == 1 {
            numbers[c / 2]
        } else {
            (numbers[c / 2 - 1] + numbers[c / 2]) / 2.0
        };
        assert_eq!(skip.data[o], m, "row {o}");
        if c == 50 {
            assert_eq!(plain.data[o], m, "row {o}");
        }
    }
}

#[test]
fn integer_extremes_and_errors() {
    let data = [i64::MAX, i64::MIN, 0, -1, i64::MAX - 1, 7];
    let v = StridedView::contiguous(&data, &[6]).unwrap();
    let s = order_statistics(&v, None, Ranks::Shared(&[5, 0, 4, 1])).unwrap();
    assert_eq!(s.values, vec![i64::MAX, i64::MIN, i64::MAX - 1, -1]);
    assert_eq!(s.counts, vec![6]);
    assert!(matches!(
        order_statistics(&v, None, Ranks::Shared(&[6])),
        Err(ReduceError::Ranks)
    ));
    assert!(matches!(
        order_statistics(
            &v,
            None,
            Ranks::PerOutput {
                ranks: &[0, 1, 2],
                k: 2
            }
        ),
        Err(ReduceError::Ranks)
    ));
    let b = [true, false];
    assert!(matches!(
        order_statistics(
            &StridedView::contiguous(&b, &[2]).unwrap(),
            None,
            Ranks::Shared(&[0])
        ),
        Err(ReduceError::BoolSelect)
    ));
    let u = [3u8, 200, 1, 9];
    assert_eq!(
        median_axes(
            &StridedView::contiguous(&u, &[4]).unwrap(),
            None,
            NanHandling::Propagate
        )
        .unwrap()
        .data,
        vec![6.0]
    );
}

/// Outputs of over 2^18 elements take the sampled path (bands around the wanted ranks, one
/// pass): checked against a sort with ties, NaN, a strided walk, many ranks, and data whose
/// sample misjudges it (the path then copies the output), at one and two threads.
#[test]
fn large_outputs_match_a_sort() {
    let n = 300_007usize;
    let step = n / (1 << 15);
    let cases: Vec<(&str, Vec<f64>)> = vec![
        (
            "spread",
            (0..n)
                .map(|i| ((i * 7919) % 100_003) as f64 - 5e4)
                .collect(),
        ),
        ("ties", (0..n).map(|i| ((i * 31) % 5) as f64).collect()),
        (
            "nan",
            (0..n)
                .map(|i| {
                    if i % 13 == 0 {
                        f64::NAN
                    } else {
                        (i % 1000) as f64
                    }
                })
                .collect(),
        ),
        // Every sampled position holds a huge value: the sample's bands miss every rank.
        (
            "misleading",
            (0..n)
                .map(|i| if i % step == 0 { 1e300 } else { i as f64 })
                .collect(),
        ),
    ];
    for (name, data) in cases {
        let whole = StridedView::from_1d(&data);
        let pair = StridedView::contiguous(&data[..n - 1], &[2, (n - 1) / 2]).unwrap();
        for threads in [1, 2] {
            with_num_threads(threads, || {
                for (view, axes) in [
                    (whole.clone(), vec![0usize]),
                    (whole.sliced(0, 1, n, 2).unwrap(), vec![0]),
                    (pair.clone(), vec![1]),
                    (pair.permuted(&[1, 0]).unwrap(), vec![0]),
                ] {
                    let want = slices(&view, &axes);
                    let m = want[0].len();
                    // Few ranks: bands; many (over 8 bands): the output is copied.
                    let few = vec![0, m / 2, m - 1, m / 2 - 1, m / 3];
                    let many: Vec<usize> = (0..40).map(|i| i * (m / 40)).collect();
                    let ax: Vec<isize> = axes.iter().map(|&d| d as isize).collect();
                    for ranks in [few, many] {
                        let got =
                            order_statistics(&view, Some(&ax), Ranks::Shared(&ranks)).unwrap();
                        assert_sorted_ranks(&got, &want, &ranks, &format!("{name} {axes:?}"));
                    }
                }
            });
        }
    }
}

/// Ranks from each output's count (`Ranks::ByCount`, one pass) and the crate's quantiles
/// (`quantile_axes`, NaN left out) on every walk, against a sort of each output's numbers,
/// at one and two threads.
#[test]
fn ranks_by_count_and_quantiles_on_every_walk() {
    let mut data: Vec<f64> = (0..3000)
        .map(|i| ((i * 7919) % 1009) as f64 - 500.0)
        .collect();
    for i in (0..3000).step_by(13) {
        data[i] = f64::NAN;
    }
    let rule = |c: usize, r: &mut [usize]| {
        let last = c.saturating_sub(1);
        r.copy_from_slice(&[0, last / 3, last, c]);
    };
    let q = [0.0, 0.3, 0.5, 1.0];
    for threads in [1, 2] {
        with_num_threads(threads, || {
            for (name, v) in views(&data) {
                for axes in [vec![0usize], vec![v.ndim() - 1], (0..v.ndim()).collect()] {
                    let ax: Vec<isize> = axes.iter().map(|&d| d as isize).collect();
                    let ctx = format!("{name} {axes:?}");
                    let want = slices(&v, &axes);
                    let got =
                        order_statistics(&v, Some(&ax), Ranks::ByCount { ranks: &rule, k: 4 })
                            .unwrap();
                    let qs = quantile_axes(
                        &v,
                        Some(&ax),
                        &q,
                        QuantileMethod::Linear,
                        NanHandling::Ignore,
                    )
                    .unwrap();
                    let outs = want.len();
                    assert_eq!(qs.data.len(), q.len() * outs, "{ctx}");
                    for (o, w) in want.iter().enumerate() {
                        let numbers: Vec<f64> =
                            sorted_nan_last(w.iter().copied().filter(|x| !x.is_nan()).collect());
                        let c = numbers.len();
                        assert_eq!(got.counts[o], c, "{ctx} output {o}");
                        let mut r = [0; 4];
                        rule(c, &mut r);
                        for (j, &r) in r.iter().enumerate() {
                            let g = got.values[o * 4 + j];
                            if r < c {
                                assert_eq!(g, numbers[r], "{ctx} output {o} rank {r}");
                            } else {
                                assert!(g.is_nan(), "{ctx} output {o} rank {r} past {c}");
                            }
                        }
                        for (i, &x) in q.iter().enumerate() {
                            let g = qs.data[i * outs + o];
                            if c == 0 {
                                assert!(g.is_nan(), "{ctx}");
                                continue;
                            }
                            let at = (c - 1) as f64 * x;
                            let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
                            let t = at - at.floor();
                            let want = if t >= 0.5 {
                                numbers[hi] - (numbers[hi] - numbers[lo]) * (1.0 - t)
                            } else {
                                numbers[lo] + (numbers[hi] - numbers[lo]) * t
                            };
                            assert_eq!(g, want, "{ctx} output {o} q {x}");
                        }
                    }
                }
            }
        });
    }
}

#[test]
fn quantile_shapes_nan_policies_and_errors() {
    let data = [4.0, f64::NAN, 1.0, 2.0, 8.0, 6.0];
    let m = StridedView::contiguous(&data, &[2, 3]).unwrap();
    let plain = quantile_axes(
        &m,
        Some(&[1]),
        &[0.5],
        QuantileMethod::Linear,
        NanHandling::Propagate,
    )
    .unwrap();
    assert_eq!(plain.shape, vec![1, 2]);
    assert!(plain.data[0].is_nan());
    assert_eq!(plain.data[1], 6.0);
    let skip = quantile_axes(
        &m,
        Some(&[1]),
        &[0.5, 1.0],
        QuantileMethod::Lower,
        NanHandling::Ignore,
    )
    .unwrap();
    assert_eq!(skip.data, vec![1.0, 6.0, 4.0, 8.0]);
    assert!(matches!(
        quantile_axes(
            &m,
            None,
            &[1.5],
            QuantileMethod::Linear,
            NanHandling::Ignore
        ),
        Err(ReduceError::Quantiles)
    ));
    let empty: [f64; 0] = [];
    assert!(matches!(
        quantile_axes(
            &StridedView::contiguous(&empty, &[0]).unwrap(),
            None,
            &[0.5],
            QuantileMethod::Linear,
            NanHandling::Ignore
        ),
        Err(ReduceError::Ranks)
    ));
    let ints = [7i16, -3, 100, 2];
    let v = StridedView::contiguous(&ints, &[4]).unwrap();
    // np.quantile([7, -3, 100, 2], [0.25, 0.5], method="hazen") == [-0.5, 4.5]
    let h = quantile_axes(
        &v,
        None,
        &[0.25, 0.5],
        QuantileMethod::Hazen,
        NanHandling::Propagate,
    )
    .unwrap();
    assert_eq!(h.data, vec![-0.5, 4.5]);
}
