//! argmin / argmax / nanargmin / nanargmax against a plain loop over the logical C order:
//! random layouts of every kind (reversed, stepped, permuted, broadcast, misaligned), values
//! full of ties, NaN and signed zeros, long lines that cross the kernel's chunks, tiles and
//! row blocks, at every SIMD level and at 1 and 2 threads.

use crate::common::{elements, groups, Case, Rng, TestElem};
use stridewise::*;

const OPS: [Op; 4] = [Op::Argmin, Op::Argmax, Op::NanArgmin, Op::NanArgmax];

/// numpy's answer for one slice in logical order, by the definition: the first NaN (plain
/// functions on floats), else the first best value with NaN as the worst (nan-functions);
/// errors for an empty or (nan-functions) all-NaN slice.
fn reference<T: Element>(op: Op, xs: &[T]) -> Result<u64, ReduceError> {
    let max = op.info().max;
    let ignore = op.info().nan == NanHandling::Ignore;
    if xs.is_empty() {
        let op = if max { "argmax" } else { "argmin" };
        return Err(ReduceError::EmptyArg { op });
    }
    if T::IS_FLOAT && !ignore {
        if let Some(i) = xs.iter().position(|x| x.is_nan()) {
            return Ok(i as u64);
        }
    }
    if T::IS_FLOAT && ignore && xs.iter().all(|x| x.is_nan()) {
        return Err(ReduceError::AllNanSlice);
    }
    let worst = if max {
        T::MAX_IDENTITY
    } else {
        T::MIN_IDENTITY
    };
    let key = |x: T| if x.is_nan() { worst } else { x };
    let mut best = (key(xs[0]), 0);
    for (i, &x) in xs.iter().enumerate().skip(1) {
        let better = if max {
            key(x) > best.0
        } else {
            key(x) < best.0
        };
        if better {
            best = (key(x), i);
        }
    }
    Ok(best.1 as u64)
}

/// Check every op, the whole array and each axis, against [`reference`].
fn check<T: Element>(view: &StridedView<'_, T>, what: &str) {
    for op in OPS {
        let got = reduce(op, view, None, 0.0).map(|o| o.values);
        let want = reference(op, &elements(view)).map(|i| Values::I64(vec![i as i64]));
        assert_eq!(got, want, "{what}: {op:?} whole, shape {:?}", view.shape());
        for axis in 0..view.ndim() {
            let got = reduce(op, view, Some(&[axis as isize]), 0.0);
            let (shape, slices) = groups(view, &[axis]);
            let n = view.shape()[axis];
            let want: Result<Vec<i64>, _> = if n == 0 {
                Err(ReduceError::EmptyArg {
                    op: if op.info().max { "argmax" } else { "argmin" },
                })
            } else {
                slices
                    .iter()
                    .map(|s| reference(op, s).map(|i| i as i64))
                    .collect()
            };
            match (got, want) {
                (Ok(o), Ok(w)) => {
                    assert_eq!(o.shape, shape, "{what}: {op:?} axis {axis}");
                    assert_eq!(o.values, Values::I64(w), "{what}: {op:?} axis {axis}");
                }
                (g, w) => assert_eq!(g.err(), w.err(), "{what}: {op:?} axis {axis}"),
            }
        }
    }
}

/// Every SIMD level this CPU has, 1 and 2 threads.
fn everywhere(f: impl Fn()) {
    for level in available_simd_levels() {
        for threads in [1, 2] {
            with_simd_level(level, || with_num_threads(threads, &f));
        }
    }
}

/// Values drawn from a few, so that ties are everywhere (signed zeros tie with each other).
fn few_f64(rng: &mut Rng) -> f64 {
    [
        0.0,
        -0.0,
        1.0,
        -1.0,
        2.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ][rng.below(8) as usize]
}

fn random_cases<T: TestElem>(seed: u64, cases: usize, map: impl Fn(&mut Rng, T) -> T) {
    let mut rng = Rng(seed);
    for c in 0..cases {
        let mut case = Case::<T>::random(&mut rng, 3, 40, true);
        for x in case.data.iter_mut() {
            *x = map(&mut rng, *x);
        }
        everywhere(|| check(&case.view(), &format!("seed {seed} case {c} {case:?}")));
    }
}

#[test]
fn arg_matches_the_definition_on_random_layouts() {
    random_cases::<f64>(
        11,
        60,
        |rng, x| if rng.below(2) == 0 { few_f64(rng) } else { x },
    );
    random_cases::<f32>(12, 40, |rng, x| {
        if rng.below(2) == 0 {
            few_f64(rng) as f32
        } else {
            x
        }
    });
    random_cases::<u8>(13, 40, |rng, x| {
        if rng.below(2) == 0 {
            rng.below(3) as u8
        } else {
            x
        }
    });
    random_cases::<i16>(14, 30, |_, x| x);
    random_cases::<i64>(15, 30, |rng, x| if rng.below(2) == 0 { 7 } else { x });
    random_cases::<bool>(16, 30, |_, x| x);
    random_cases::<i32>(17, 30, |rng, x| {
        if rng.below(2) == 0 {
            rng.below(3) as i32
        } else {
            x
        }
    });
    random_cases::<u32>(18, 30, |rng, x| if rng.below(2) == 0 { 7 } else { x });
}

#[test]
fn arg_on_long_lines_chunks_tiles_and_blocks() {
    // 1-d, every layout the whole-array walk takes: in place, reversed, stepped; the best
    // value at positions around chunk (1024) and unit boundaries, tied twice.
    let n = 300_001;
    for at in [0usize, 1023, 1024, 65_535, 262_144, n - 1] {
        let mut data: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64).collect();
        data[at] = 5000.0;
        data[(at + 77_777) % n] = 5000.0;
        data[(at + 3) % n] = -5.0;
        let v = StridedView::contiguous(&data, &[n]).unwrap();
        everywhere(|| {
            check(&v, &format!("1-d best at {at}"));
            check(&v.sliced(0, 0, n, -1).unwrap(), "reversed");
            check(&v.sliced(0, 1, n, 3).unwrap(), "stepped");
            check(
                &StridedView::contiguous(&data[..300_000], &[600, 500])
                    .unwrap()
                    .permuted(&[1, 0])
                    .unwrap(),
                "transposed",
            );
        });
        let mut nan = data.clone();
        nan[(at + 10) % n] = f64::NAN;
        nan[(at + 20) % n] = f64::NAN;
        everywhere(|| check(&StridedView::contiguous(&nan, &[n]).unwrap(), "NaN"));
    }
    // The vertical path: 700 rows of u8 (the row counter is a byte: 3 blocks), tiles of 512
    // outputs, ties in every column; and a padded matrix (rows of runs).
    let (rows, cols) = (700usize, 1100usize);
    let bytes: Vec<u8> = (0..rows * cols)
        .map(|i| ((i * 2_654_435_761) >> 7) as u8 % 200)
        .collect();
    let m = StridedView::contiguous(&bytes, &[rows, cols]).unwrap();
    everywhere(|| {
        check(&m, "u8 matrix");
        check(&m.sliced(1, 0, 1000, 1).unwrap(), "u8 padded rows");
        check(&m.sliced(0, 0, rows, -1).unwrap(), "u8 rows reversed");
        // Reversed columns: the tile axis walked forwards, outputs written back to front.
        check(
            &m.sliced(1, cols - 1, usize::MAX, -1).unwrap(),
            "u8 columns reversed",
        );
        check(
            &m.sliced(1, 1000, usize::MAX, -1)
                .unwrap()
                .sliced(0, rows - 1, usize::MAX, -1)
                .unwrap(),
            "u8 both reversed",
        );
    });
    let wide: Vec<f32> = bytes.iter().map(|&b| (b % 7) as f32 - 3.0).collect();
    let w = StridedView::contiguous(&wide, &[rows, cols]).unwrap();
    everywhere(|| check(&w, "f32 matrix"));
    // Rows of 4- and 2-byte integers (one pass, 16 lanes a step, then the rest one by one):
    // ties in every row, rows of one chunk and more, and of 37 elements.
    let ints: Vec<i32> = bytes.iter().map(|&b| (b % 50) as i32 - 25).collect();
    let uints: Vec<u32> = bytes.iter().map(|&b| (b % 50) as u32).collect();
    let im = StridedView::contiguous(&ints, &[rows, cols]).unwrap();
    let um = StridedView::contiguous(&uints, &[rows, cols]).unwrap();
    let shorts: Vec<i16> = bytes.iter().map(|&b| (b % 50) as i16 - 25).collect();
    let ushorts: Vec<u16> = bytes.iter().map(|&b| (b % 50) as u16 * 1000).collect();
    let sm = StridedView::contiguous(&shorts, &[rows, cols]).unwrap();
    let usm = StridedView::contiguous(&ushorts, &[rows, cols]).unwrap();
    everywhere(|| {
        check(&im, "i32 matrix");
        check(&im.sliced(1, 0, 37, 1).unwrap(), "i32 rows of 37");
        check(&um, "u32 matrix");
        check(&um.sliced(1, 5, 1030, 1).unwrap(), "u32 rows of 1025");
        check(
            &im.sliced(1, cols - 1, usize::MAX, -1).unwrap(),
            "i32 columns reversed",
        );
        check(&sm, "i16 matrix");
        check(&sm.sliced(1, 0, 37, 1).unwrap(), "i16 rows of 37");
        check(&usm, "u16 matrix (values past i16::MAX)");
        check(&usm.sliced(1, 5, 1030, 1).unwrap(), "u16 rows of 1025");
    });
    everywhere(|| {
        check(
            &w.sliced(1, 700, usize::MAX, -1).unwrap(),
            "f32 columns reversed",
        )
    });
}

/// Rows of every length up to a few vector steps, and around a chunk: the vector search of a
/// line's first chunk (`first_chunk`: four chains of lanes a step, the vectors after the
/// last step one to a chain, the last elements as one vector ending at the row's end, read
/// twice where it overlaps) against the definition, for its six types, at every level.
/// Rows: random values, few values (ties in every chain), ascending (the best in the last,
/// overlapping vector), descending (the best first), the worst key of argmax and of argmin
/// throughout, and, for floats, a NaN last or in the middle.
fn rows_of_every_length<T: TestElem + PartialOrd>(seed: u64) {
    let mut rng = Rng(seed);
    let lengths = (1..=140).chain([255, 256, 257, 316, 1000, 1023, 1024, 1025, 1100]);
    for n in lengths {
        let random: Vec<T> = (0..n).map(|_| T::random(&mut rng)).collect();
        let few: Vec<T> = (0..n).map(|i| random[i % 3.min(n)]).collect();
        let mut up = random.clone();
        up.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
        let down: Vec<T> = up.iter().rev().copied().collect();
        let mut rows = vec![random.clone(), few, up, down];
        rows.push(vec![T::MAX_IDENTITY; n]);
        rows.push(vec![T::MIN_IDENTITY; n]);
        if let Some(nan) = T::nan() {
            for at in [n - 1, n / 2] {
                let mut r = random.clone();
                r[at] = nan;
                rows.push(r);
            }
        }
        let data: Vec<T> = rows.concat();
        let v = StridedView::contiguous(&data, &[rows.len(), n]).unwrap();
        everywhere(|| check(&v, &format!("rows of {n}")));
    }
}

#[test]
fn arg_first_chunks_of_every_length() {
    rows_of_every_length::<f64>(21);
    rows_of_every_length::<f32>(22);
    rows_of_every_length::<i64>(23);
    rows_of_every_length::<i32>(24);
    rows_of_every_length::<u64>(25);
    rows_of_every_length::<u32>(26);
}

/// Long contiguous pieces are read as 4 quarters side by side (`walk::STREAMS`, each
/// stream at least 16 KiB): the answer is still the first best in logical order when the
/// best value sits in several quarters of one unit and of the next, at quarter and unit
/// boundaries, in the rest after the quarters, and with NaN in an earlier, a later or the
/// first quarter.
#[test]
fn arg_streams_keep_the_first_in_logical_order() {
    // `lead`: units of filler first. Elements wider than 4 bytes are read as streams only
    // when the whole array has at least `MEMORY_BYTES` (32 MiB, 128 units): with `MEMORY`
    // more units the same scenarios go through that path.
    const MEMORY: usize = 126;
    fn planted<T: TestElem>(small: impl Fn(&mut Rng) -> T, hi: T, lo: T, lead: usize) {
        // Elements per unit of the whole-array walk (256 KiB), and per quarter of a unit.
        let unit = (1usize << 18) / std::mem::size_of::<T>();
        let quarter = unit / 4;
        let first = lead * unit;
        // Two whole units, then one whose quarters (of whole 1024-element chunks) leave a
        // rest that is read in order.
        let last = unit / 2 + 777;
        let rest = first + 2 * unit + last / 4096 * 4096;
        let n = first + 2 * unit + last;
        let mut rng = Rng(std::mem::size_of::<T>() as u64 + 5);
        let base: Vec<T> = (0..n).map(|_| small(&mut rng)).collect();
        let at = |u: usize, k: usize, off: usize| first + u * unit + k * quarter + off;
        let mut scenarios: Vec<(Vec<usize>, Vec<usize>, Vec<usize>)> = vec![
            // (positions of hi, of lo, of NaN)
            (
                vec![at(1, 2, 5), at(1, 1, 9)],
                vec![at(0, 3, 1), at(2, 0, 0)],
                vec![],
            ),
            (
                vec![at(0, 3, quarter - 1), at(1, 0, 0)],
                vec![at(0, 1, 0), at(0, 2, 0)],
                vec![],
            ),
            (
                vec![rest + 3, at(2, 0, last / 2)],
                vec![rest + 1, n - 1],
                vec![],
            ),
            // A later quarter's best found first (its first chunk), an earlier one's last.
            (
                vec![at(1, 2, 0), at(1, 1, quarter - 3)],
                vec![at(1, 3, 0)],
                vec![],
            ),
            (vec![], vec![], vec![]),
        ];
        if T::IS_FLOAT {
            scenarios.extend([
                (vec![at(1, 1, 3)], vec![at(1, 3, 0)], vec![at(1, 2, 7)]),
                (vec![at(0, 2, 0)], vec![], vec![at(0, 3, 2), at(0, 1, 2)]),
                (vec![at(0, 2, 0)], vec![at(0, 3, 0)], vec![at(0, 0, 5)]),
                (
                    vec![at(2, 1, 4)],
                    vec![],
                    vec![rest + 2, at(2, 0, last / 3)],
                ),
                (vec![], vec![], vec![rest]),
            ]);
        }
        for (k, (his, los, nans)) in scenarios.iter().enumerate() {
            let mut data = base.clone();
            for &i in his {
                data[i] = hi;
            }
            for &i in los {
                data[i] = lo;
            }
            for &i in nans {
                data[i] = T::NAN;
            }
            let v = StridedView::contiguous(&data, &[n]).unwrap();
            everywhere(|| check(&v, &format!("{} scenario {k}", T::NAME)));
        }
    }
    planted::<u8>(|r| 1 + r.below(100) as u8, 200, 0, 0);
    // The type's extremes: nothing can beat them, so the scan stops at the first one (in
    // each quarter, the earlier quarters still read).
    planted::<u8>(|r| 1 + r.below(100) as u8, u8::MAX, 0, 0);
    planted::<i64>(|r| r.below(1000) as i64, i64::MAX, i64::MIN, 0);
    planted::<i64>(|r| r.below(1000) as i64, 5000, -5000, 0);
    planted::<bool>(|_| false, true, false, 0);
    planted::<i16>(|r| r.below(1000) as i16 - 500, 3000, -3000, 0);
    planted::<f32>(|r| r.unit() as f32, 5.0, -5.0, 0);
    planted::<f64>(|r| r.unit(), 5.0, -5.0, 0);
    // One 8-byte type through the quarters (32 MiB a scenario: the slowest part of the
    // suite); the same loop serves every type.
    planted::<f64>(|r| r.unit(), f64::INFINITY, f64::NEG_INFINITY, MEMORY);
}

#[test]
fn arg_rows_from_memory_keep_each_rows_first() {
    // Rows of one to a few chunks (1024 elements) in a matrix of at least 4 MiB (where the
    // kernel knows the reduction comes from memory), in groups of rows per unit that end
    // with a part group. (Reading four rows side by side was tried: 4000x4000 f64 gained
    // 6-12% on one Zen 3 core, 2000x2000 f32 lost 6%; rows are too short to stream.)
    fn rows<T: TestElem>(small: impl Fn(&mut Rng) -> T, hi: T, lo: T, n: usize) {
        let m = (4 << 20) / (n * std::mem::size_of::<T>()) + 3;
        let mut rng = Rng(n as u64);
        let mut data: Vec<T> = (0..m * n).map(|_| small(&mut rng)).collect();
        let whole = n / 1024 * 1024;
        // (row, column, value): a later chunk's best before an earlier one's tie, ties at
        // chunk edges, a best in the rest after the whole chunks, lows, NaN.
        let mut plant = vec![
            (0, 1024.min(n - 1), hi),
            (0, 1030.min(n - 1), hi),
            (1, 1023, hi),
            (1, 1024.min(n - 1), hi),
            (2, n - 1, hi),
            (2, whole.saturating_sub(1), lo),
            (3, 7, lo),
            (3, n - 2, lo),
            (5, n / 2, hi),
            (m - 1, n - 1, hi),
            (m - 2, 0, lo),
        ];
        if T::IS_FLOAT {
            plant.extend([
                (6, n - 3, T::NAN),
                (6, 2, hi),
                (7, 1500.min(n - 1), T::NAN),
                (7, 1200.min(n - 1), T::NAN),
                (m - 3, whole - 1, T::NAN),
            ]);
        }
        for (r, c, v) in plant {
            data[r * n + c] = v;
        }
        let v = StridedView::contiguous(&data, &[m, n]).unwrap();
        everywhere(|| check(&v, &format!("{} rows of {n}", T::NAME)));
    }
    for n in [1024, 3000, 5000] {
        rows::<f64>(|r| r.unit(), 5.0, -5.0, n);
        rows::<f32>(|r| r.unit() as f32, 5.0, -5.0, n);
        rows::<i64>(|r| r.below(1000) as i64, i64::MAX, -7, n);
    }
    rows::<u8>(|r| 1 + r.below(100) as u8, 200, 0, 3000);
    rows::<i16>(|r| r.below(1000) as i16 - 500, 3000, -3000, 2100);
}

#[test]
fn arg_errors_and_api() {
    let empty: [f64; 0] = [];
    let e = StridedView::contiguous(&empty, &[0, 3]).unwrap();
    assert_eq!(argmax(&e), Err(ReduceError::EmptyArg { op: "argmax" }));
    assert_eq!(argmin_axis(&e, 1).unwrap().data, Vec::<i64>::new());
    assert_eq!(
        nanargmin_axis(&e, 0),
        Err(ReduceError::EmptyArg { op: "argmin" })
    );
    let nans = [f64::NAN, 1.0, f64::NAN, f64::NAN];
    let m = StridedView::contiguous(&nans, &[2, 2]).unwrap();
    assert_eq!(nanargmax_axis(&m, 0), Err(ReduceError::AllNanSlice));
    assert_eq!(
        nanargmax_axis(&m, 1).map(|r| r.data),
        Err(ReduceError::AllNanSlice)
    );
    assert_eq!(nanargmax(&m), Ok(1));
    assert_eq!(argmax(&m), Ok(0));
    // numpy's nanargmax([nan, -inf]) is 0: NaN counts as -inf and the first wins.
    let x = [f64::NAN, f64::NEG_INFINITY];
    assert_eq!(
        nanargmax(&StridedView::contiguous(&x, &[2]).unwrap()),
        Ok(0)
    );
    assert_eq!(
        reduce(Op::Argmax, &m, Some(&[0, 1]), 0.0),
        Err(ReduceError::ArgAxes)
    );
    assert_eq!(
        partials(Op::Argmax, &m, None)
            .unwrap()
            .combine(&partials(Op::Argmax, &m, None).unwrap()),
        Err(PartialsError::Positional)
    );
    // bool bytes: any nonzero byte is true (a raw array of bytes 0, 2, 1).
    let bytes = [0u8, 2, 1];
    let raw = RawArray::new(&bytes, 0, ElemType::Bool, &[3], &[1]).unwrap();
    assert_eq!(
        raw.reduce(Op::Argmax, None, 0.0).unwrap().values,
        Values::I64(vec![1])
    );
    assert_eq!(
        raw.reduce(Op::Argmin, None, 0.0).unwrap().values,
        Values::I64(vec![0])
    );
}

/// Bool lines stop at their first final byte (a true one under argmax, a false one under
/// argmin), found a block of bytes at a time: rows of every length up to 300 with that byte
/// at several positions (the other value everywhere before it, either value after it), and
/// rows without one; whole arrays of several work units (2^18 bytes each) whose first final
/// byte lies in the first, a middle or the last unit, or nowhere (the units after a unit
/// whose answer is final are not read).
#[test]
fn arg_bool_lines_stop_at_the_first_final_byte() {
    let mut rng = Rng(31);
    for n in 1..=300usize {
        let mut rows: Vec<Vec<bool>> = Vec::new();
        for fill in [false, true] {
            rows.push(vec![fill; n]);
            for at in [0, n / 3, n / 2, n - 1] {
                let mut r = vec![fill; n];
                r[at] = !fill;
                for x in &mut r[at + 1..] {
                    *x = rng.below(2) == 1;
                }
                rows.push(r);
            }
        }
        let data: Vec<bool> = rows.concat();
        let v = StridedView::contiguous(&data, &[rows.len(), n]).unwrap();
        everywhere(|| check(&v, &format!("bool rows of {n}")));
    }
    let unit = 1 << 18;
    let n = 3 * unit + 1000;
    for at in [
        Some(5),
        Some(unit - 1),
        Some(unit),
        Some(2 * unit + 7),
        Some(n - 1),
        None,
    ] {
        for fill in [false, true] {
            let mut data = vec![fill; n];
            if let Some(at) = at {
                data[at] = !fill;
                data[n - 1] = !fill;
            }
            let v = StridedView::from_1d(&data);
            everywhere(|| check(&v, &format!("bool whole, {fill} but {at:?}")));
        }
    }
}
