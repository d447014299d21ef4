//! Public partials: the partials of chunks, combined, give the reduction of the whole.

use crate::common::*;
use stridewise::*;

/// `op` over `axes` of `view` from the partials of the row chunks `view[cuts[i]..cuts[i+1]]`
/// (axis 0 must be reduced), combined in order, finalised.
fn chunked<T: Element>(
    op: Op,
    view: &StridedView<'_, T>,
    axes: Option<&[isize]>,
    cuts: &[usize],
) -> Result<dynamic::Outcome, ReduceError> {
    let mut acc: Option<Partials> = None;
    for w in cuts.windows(2) {
        let chunk = view.sliced(0, w[0], w[1], 1).unwrap();
        let p = partials(op, &chunk, axes)?;
        acc = Some(match acc {
            None => p,
            Some(a) => a.combine(&p).expect("same reduction"),
        });
    }
    acc.expect("at least one chunk").finalise(1.0)
}

/// The chunked reduction against the whole one (see [`assert_agree`]).
fn agree<T: Element>(op: Op, view: &StridedView<'_, T>, axes: Option<&[isize]>, cuts: &[usize]) {
    let what = format!("{op:?} of {} over {axes:?}, cuts {cuts:?}", T::NAME);
    let whole = reduce(op, view, axes, 1.0);
    assert_agree::<T>(op, &what, whole, chunked(op, view, axes, cuts));
}

fn chunks_combine_to_the_whole<T: TestElem>(seed: u64) {
    let mut rng = Rng(seed);
    let (rows, cols) = (67usize, 6usize);
    let mut data: Vec<T> = (0..rows * cols).map(|_| T::random(&mut rng)).collect();
    if let Some(nan) = T::nan() {
        // Column 1: NaN in the first rows only (one chunk is all NaN there); column 2: all
        // NaN (numpy's warnings); column 3: a NaN or two anywhere.
        for r in 0..rows {
            if r < 20 {
                data[r * cols + 1] = nan;
            }
            data[r * cols + 2] = nan;
        }
        data[40 * cols + 3] = nan;
        data[7 * cols + 3] = nan;
    }
    let c = StridedView::contiguous(&data, &[rows, cols]).unwrap();
    // The same values column-major: the reduced axis is then the fast one (the lane path).
    let f_data: Vec<T> = (0..rows * cols)
        .map(|i| data[(i % rows) * cols + i / rows])
        .collect();
    let f = StridedView::from_slice(&f_data, 0, &[rows, cols], &[1, rows as isize]).unwrap();
    // Every other column, backwards: strided and reversed.
    let s = c.sliced(1, cols - 1, usize::MAX, -2).unwrap();
    let cut_sets: [&[usize]; 4] = [
        &[0, rows],
        &[0, 20, rows],
        &[0, 20, 20, 41, rows],
        &[0, 0, 1, 2, rows],
    ];
    for view in [&c, &f, &s] {
        // argmin/argmax partials hold positions in their own piece: they do not combine
        // (tests/suite/arg.rs checks the error).
        for op in Op::ALL
            .into_iter()
            .filter(|op| op.info().family != Family::Arg)
        {
            for axes in [None, Some(&[0][..]), Some(&[0, 1][..])] {
                for cuts in cut_sets {
                    agree(op, view, axes, cuts);
                }
            }
        }
    }
}

#[test]
fn chunks_combine_to_the_whole_for_every_type() {
    chunks_combine_to_the_whole::<f64>(1);
    chunks_combine_to_the_whole::<f32>(2);
    chunks_combine_to_the_whole::<i8>(3);
    chunks_combine_to_the_whole::<i16>(4);
    chunks_combine_to_the_whole::<i32>(5);
    chunks_combine_to_the_whole::<i64>(6);
    chunks_combine_to_the_whole::<u8>(7);
    chunks_combine_to_the_whole::<u16>(8);
    chunks_combine_to_the_whole::<u32>(9);
    chunks_combine_to_the_whole::<u64>(10);
    chunks_combine_to_the_whole::<bool>(11);
}

/// The partials of no elements change nothing they are combined with, on either side.
#[test]
fn the_partials_of_an_empty_chunk_are_an_identity() {
    let mut rng = Rng(12);
    let mut data: Vec<f64> = (0..300).map(|_| f64::random(&mut rng)).collect();
    data[17] = f64::NAN;
    data[18] = -0.0;
    let v = StridedView::contiguous(&data, &[50, 6]).unwrap();
    let empty = v.sliced(0, 0, 0, 1).unwrap();
    // (argmin/argmax: no partials of an empty slice, and no combining.)
    for op in Op::ALL
        .into_iter()
        .filter(|op| op.info().family != Family::Arg)
    {
        for axes in [None, Some(&[0][..])] {
            let p = partials(op, &v, axes).unwrap();
            let e = partials(op, &empty, axes).unwrap();
            assert_eq!(e.count(), 0);
            // Compared as text: NaN states are equal there, and signed zeros differ.
            let same =
                |q: Partials| assert_eq!(format!("{q:?}"), format!("{p:?}"), "{op:?} {axes:?}");
            same(p.clone().combine(&e).unwrap());
            same(e.combine(&p).unwrap());
        }
    }
}

#[test]
fn partials_take_apart_and_rebuild() {
    let data: Vec<i32> = (0..24).collect();
    let v = StridedView::contiguous(&data, &[4, 6]).unwrap();
    for op in Op::ALL {
        let p = partials(op, &v, Some(&[1])).unwrap();
        assert_eq!(
            (p.op(), p.elem(), p.shape(), p.count()),
            (op, ElemType::I32, &[4][..], 6)
        );
        let q = Partials::from_parts(
            op,
            p.elem(),
            p.shape().to_vec(),
            p.count(),
            p.state().clone(),
        )
        .unwrap();
        assert_eq!(q, p);
        assert_eq!(q.finalise(0.0), reduce(op, &v, Some(&[1]), 0.0));
    }
    // Another reduction, element type or shape does not combine.
    let sum = partials(Op::Sum, &v, Some(&[1])).unwrap();
    let mean = partials(Op::Mean, &v, Some(&[1])).unwrap();
    let cols = partials(Op::Sum, &v, Some(&[0])).unwrap();
    let floats = [1.0f64; 24];
    let f = StridedView::contiguous(&floats, &[4, 6]).unwrap();
    let fsum = partials(Op::Sum, &f, Some(&[1])).unwrap();
    for other in [&mean, &cols, &fsum] {
        assert_eq!(sum.clone().combine(other), Err(PartialsError::Mismatch));
    }
}

#[test]
fn min_max_of_no_elements_fail_when_finalised() {
    let data = [1u16; 6];
    let v = StridedView::contiguous(&data, &[2, 3]).unwrap();
    let rows = v.sliced(0, 0, 0, 1).unwrap();
    let p = partials(Op::Max, &rows, Some(&[0])).unwrap();
    assert_eq!(p.count(), 0);
    assert_eq!(
        p.clone().finalise(0.0),
        Err(ReduceError::EmptyMinMax { op: "maximum" })
    );
    // With elements from another chunk they finalise.
    let q = partials(Op::Max, &v, Some(&[0])).unwrap();
    assert_eq!(
        p.combine(&q).unwrap().finalise(0.0).unwrap().values,
        Values::U16(vec![1; 3])
    );
}

/// Sums whose rounding depends on how they are cut: heavy cancellation, ties, a huge range.
fn awkward(rng: &mut Rng, len: usize) -> Vec<f64> {
    (0..len)
        .map(|i| match i % 7 {
            0 => 1e16,
            1 => -1e16,
            2 => 1.0 + f64::random(rng) * 1e-3,
            3 => f64::random(rng) * 1e300,
            4 => -f64::random(rng) * 1e300,
            5 => 0.5,
            _ => f64::random(rng) * 1e-300,
        })
        .collect()
}

/// Exact partials of pieces, combined in any order, finalise to the bits of the whole
/// reduction, for the float sums and means over every axis form, both float types, with NaN.
#[test]
fn exact_partials_of_any_cut_give_the_whole() {
    let mut rng = Rng(13);
    let (rows, cols) = (61usize, 5usize);
    let mut data = awkward(&mut rng, rows * cols);
    data[3 * cols + 1] = f64::NAN;
    let data32: Vec<f32> = data.iter().map(|&x| x.clamp(-1e30, 1e30) as f32).collect();
    let cut_sets: [&[usize]; 3] = [&[0, rows], &[0, 1, 30, 30, rows], &[0, 7, 8, 40, rows]];
    let ops = [Op::Sum, Op::NanSum, Op::Mean, Op::NanMean];
    fn check<T: Element>(data: &[T], rows: usize, cols: usize, cuts: &[usize], op: Op) {
        let v = StridedView::contiguous(data, &[rows, cols]).unwrap();
        for axes in [None, Some(&[0][..]), Some(&[0, 1][..])] {
            let pieces: Vec<ExactPartials> = cuts
                .windows(2)
                .map(|w| {
                    let piece = v.sliced(0, w[0], w[1], 1).unwrap();
                    exact_partials(op, &piece, axes).unwrap().unwrap()
                })
                .collect();
            // Backwards, and taken apart into words and rebuilt on the way.
            let mut acc: Option<ExactPartials> = None;
            for p in pieces.iter().rev() {
                let q = ExactPartials::from_parts(
                    p.op(),
                    p.elem(),
                    p.shape().to_vec(),
                    p.count(),
                    p.words(),
                    p.counted().to_vec(),
                )
                .unwrap();
                acc = Some(match acc {
                    None => q,
                    Some(a) => a.combine(&q).unwrap(),
                });
            }
            let got = acc.unwrap().into_partials().finalise(0.0).unwrap();
            let whole = reduce(op, &v, axes, 0.0).unwrap();
            assert_eq!(
                format!("{got:?}"),
                format!("{whole:?}"),
                "{op:?} of {} over {axes:?}, cuts {cuts:?}",
                T::NAME
            );
        }
    }
    for cuts in cut_sets {
        for op in ops {
            check(&data, rows, cols, cuts, op);
            check(&data32, rows, cols, cuts, op);
        }
    }
    // Only the float sums and means have them.
    let ints = [1i32; 6];
    let iv = StridedView::contiguous(&ints, &[6]).unwrap();
    assert!(exact_partials(Op::Sum, &iv, None).is_none());
    let fv = StridedView::contiguous(&data, &[rows * cols]).unwrap();
    assert!(exact_partials(Op::Var, &fv, None).is_none());
    assert!(exact_partials(Op::Prod, &fv, None).is_none());
}

#[test]
fn exact_partials_refuse_words_they_cannot_have_given() {
    let data = [1.5f64, -2.0, 1e300];
    let v = StridedView::contiguous(&data, &[3]).unwrap();
    let p = exact_partials(Op::Sum, &v, None).unwrap().unwrap();
    let words = p.words().to_vec();
    // A header and the digits of 1e300 - 0.5 (2^-1 to 2^996: digits 33 to 64 of 2^-1074's
    // radix-2^32 places), two to a word.
    assert_eq!(words[0] & 0xff, 33);
    assert_eq!(words[0] >> 8 & 0xff, 32);
    assert_eq!(words.len(), 1 + 16);
    let rebuild =
        |w: &[i64], n: Vec<u64>| ExactPartials::from_parts(Op::Sum, ElemType::F64, vec![], 3, w, n);
    assert!(rebuild(&words, vec![3]).is_ok());
    // Other header bits, the record cut short, a word left over, a count missing.
    let mut bad = words.clone();
    bad[0] |= 1 << 40;
    assert_eq!(rebuild(&bad, vec![3]).unwrap_err(), PartialsError::BadWords);
    let short = &words[..words.len() - 1];
    assert_eq!(
        rebuild(short, vec![3]).unwrap_err(),
        PartialsError::BadWords
    );
    let mut long = words.clone();
    long.push(0);
    assert_eq!(
        rebuild(&long, vec![3]).unwrap_err(),
        PartialsError::BadWords
    );
    assert!(matches!(
        rebuild(&words, vec![]),
        Err(PartialsError::WrongLength { .. })
    ));
    // Rebuilt and combined with itself: the sum of both pieces.
    let again = rebuild(&words, vec![3]).unwrap();
    let twice = ExactPartials::combine_all(vec![p.clone(), again])
        .unwrap()
        .into_partials()
        .finalise(0.0)
        .unwrap();
    let doubled = [data, data].concat();
    let whole = reduce(
        Op::Sum,
        &StridedView::contiguous(&doubled, &[6]).unwrap(),
        None,
        0.0,
    )
    .unwrap();
    assert_eq!(format!("{twice:?}"), format!("{whole:?}"));
    // Not a float sum or mean; another shape does not combine.
    assert!(matches!(
        ExactPartials::from_parts(Op::Var, ElemType::F64, vec![], 3, &words, vec![3]),
        Err(PartialsError::WrongState { .. })
    ));
    let two = [1.0f64; 4];
    let w = StridedView::contiguous(&two, &[2, 2]).unwrap();
    let cols = exact_partials(Op::Sum, &w, Some(&[0])).unwrap().unwrap();
    assert_eq!(
        p.clone().combine(&cols).unwrap_err(),
        PartialsError::Mismatch
    );
    assert_eq!(
        ExactPartials::combine_all(vec![cols, p]).unwrap_err(),
        PartialsError::Mismatch
    );
}

/// Column sums large enough for several units of rows and several tiles of columns (merged
/// exactly), with awkward values: the exact partials finalise to the whole reduction's bits.
#[test]
fn exact_column_partials_across_units_and_tiles() {
    let mut rng = Rng(14);
    for (rows, cols) in [(4500usize, 3usize), (10, 4100), (2049, 9)] {
        let data = awkward(&mut rng, rows * cols);
        let data32: Vec<f32> = data.iter().map(|&x| x.clamp(-1e30, 1e30) as f32).collect();
        for op in [Op::Sum, Op::NanMean] {
            let v = StridedView::contiguous(&data, &[rows, cols]).unwrap();
            let got = exact_partials(op, &v, Some(&[0])).unwrap().unwrap();
            assert_eq!(
                got.into_partials().finalise(0.0),
                reduce(op, &v, Some(&[0]), 0.0),
                "{op:?} f64 {rows}x{cols}"
            );
            let w = StridedView::contiguous(&data32, &[rows, cols]).unwrap();
            let got = exact_partials(op, &w, Some(&[0])).unwrap().unwrap();
            assert_eq!(
                got.into_partials().finalise(0.0),
                reduce(op, &w, Some(&[0]), 0.0),
                "{op:?} f32 {rows}x{cols}"
            );
        }
    }
}

/// A whole-array float sum or mean takes a short road (`dynamic::float_sum_of_all`, no
/// type-erased partials between the kernel and the value): it gives the bits, the warning
/// and the shape of the partials finalised, for both float types, every layout and awkward
/// data (cancellation, overflow, subnormals, NaN, infinities, all-NaN, empty).
#[test]
fn whole_float_sums_give_their_partials_finalised() {
    fn check<T: Element>(view: &StridedView<'_, T>, what: &str) {
        for op in [Op::Sum, Op::NanSum, Op::Mean, Op::NanMean] {
            let whole = reduce(op, view, None, 0.0);
            let parts = partials(op, view, None).and_then(|p| p.finalise(0.0));
            let (w, p) = (whole.unwrap(), parts.unwrap());
            assert_eq!(
                (&w.shape, w.warning),
                (&p.shape, p.warning),
                "{op:?} {what}"
            );
            // As text: NaN equals NaN, and every other value's bits show.
            let (x, y) = (format!("{:?}", w.values), format!("{:?}", p.values));
            assert_eq!(x, y, "{op:?} {what}");
        }
    }
    let mut rng = Rng(15);
    let normal: Vec<f64> = (0..3000).map(|_| f64::random(&mut rng)).collect();
    let mut with_nan = awkward(&mut rng, 3000);
    with_nan[17] = f64::NAN;
    let mut with_inf = normal.clone();
    with_inf[5] = f64::INFINITY;
    let sets: [(&str, Vec<f64>); 6] = [
        ("normal", normal.clone()),
        ("awkward", awkward(&mut rng, 3000)),
        ("with NaN", with_nan),
        ("with inf", with_inf),
        ("all NaN", vec![f64::NAN; 40]),
        ("overflow", vec![f64::MAX, f64::MAX, -1.0]),
    ];
    for (name, data) in &sets {
        let data32: Vec<f32> = data.iter().map(|&x| x as f32).collect();
        let n = data.len();
        let c = StridedView::contiguous(data, &[n]).unwrap();
        check(&c, &format!("f64 {name} contiguous"));
        check(
            &c.sliced(0, n - 1, usize::MAX, -3).unwrap(),
            &format!("f64 {name} stepped"),
        );
        let c32 = StridedView::contiguous(&data32, &[n]).unwrap();
        check(&c32, &format!("f32 {name} contiguous"));
        if n % 3 == 0 {
            let m = StridedView::contiguous(data, &[n / 3, 3]).unwrap();
            check(&m, &format!("f64 {name} matrix"));
            check(
                &m.sliced(1, 2, usize::MAX, -1).unwrap(),
                &format!("f64 {name} reversed columns"),
            );
        }
    }
    // Broadcast (stride 0: the long road), 0-d and empty views.
    let b = StridedView::from_slice(&normal, 0, &[4, 100], &[0, 1]).unwrap();
    check(&b, "broadcast");
    check(&StridedView::contiguous(&normal[..1], &[]).unwrap(), "0-d");
    check(
        &StridedView::contiguous(&normal[..0], &[0]).unwrap(),
        "empty",
    );
    check(
        &StridedView::contiguous(&normal[..0], &[3, 0]).unwrap(),
        "empty matrix",
    );
}
