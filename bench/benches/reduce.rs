//! Criterion benches of the stridewise kernels, in bytes per second of logical data read.
//!
//! - `probe/*`: the machine's own read bandwidth, measured in the same run by
//!   `stridewise::read_probe` (`probe/read`: a plain multi-threaded wrapping sum of u64 words
//!   on the pool the reductions use) and `stridewise::read_probe_streams` (`probe/streams`:
//!   the same sum read as 4 streams side by side); the Python harness calls the same
//!   functions, so ratios to them are measured, not assumed.
//! - `<op>/<dtype>/contiguous`: sizes 1e3..1e8. Sizes up to 1e5 are measured hot in cache on
//!   purpose (the L2 case); from 1e6 on, several copies rotate so that at least 96 MiB are
//!   touched between two uses of one buffer and nothing is measured hot by accident.
//! - `layout/<op>/<layout>`: a 4000x4000 f64 matrix read as contiguous, padded rows
//!   (4000x3999 in 4000x4000), transposed, step 2 (`[:, ::2]`) and reversed.
//! - `axis/*`: mean over axis 0 and axis 1 of the 4000x4000 matrix.
//! - `baseline/*`: a scalar fold (what plain Rust gives) and `ndarray`'s own `sum`/`mean`.
//!
//! `cargo bench -p stridewise-bench -- --quick` gives a first look; `make bench` runs it all.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::{s, Array2, ArrayView2};
use std::hint::black_box;
use std::time::Duration;
use stridewise::StridedView;

const SIZES: [usize; 6] = [1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];
/// Bytes touched between two uses of one buffer for sizes that are not meant to be hot.
const ROTATE_BYTES: usize = 96 << 20;
/// Largest size still measured hot (fits the 1 MiB L2 as f64).
const HOT_MAX: usize = 100_000;
const N2: usize = 4000;

/// `k` copies of `n` values so that cold sizes are never reused while still in cache.
fn copies<T: Clone>(n: usize, make: impl Fn(usize) -> T) -> Vec<Vec<T>> {
    let bytes = n * std::mem::size_of::<T>();
    let k = if n <= HOT_MAX {
        1
    } else {
        ROTATE_BYTES.div_ceil(bytes).max(1)
    };
    let one: Vec<T> = (0..n).map(make).collect();
    vec![one; k]
}

fn value(i: usize) -> f64 {
    // Well-conditioned, not all equal, no NaN: 0.000..0.999 repeating.
    (i % 1000) as f64 * 1e-3
}

/// A read-bandwidth probe: reads every word and returns their wrapping sum.
type Probe = fn(&[u64]) -> u64;

fn bench_probe(c: &mut Criterion) {
    let probes: [(&str, Probe); 2] = [
        ("probe/read", stridewise::read_probe),
        ("probe/streams", stridewise::read_probe_streams),
    ];
    for (name, probe) in probes {
        let mut g = c.benchmark_group(name);
        for &n in &[100_000usize, 10_000_000, 100_000_000] {
            let bufs = copies(n, |i| i as u64);
            g.throughput(Throughput::Bytes((n * 8) as u64));
            let mut k = 0;
            g.bench_function(BenchmarkId::from_parameter(n), |b| {
                b.iter(|| {
                    k = (k + 1) % bufs.len();
                    black_box(probe(&bufs[k]))
                })
            });
        }
        g.finish();
    }
}

/// One op over the contiguous size sweep for one dtype.
fn sweep<T: stridewise::Element>(
    c: &mut Criterion,
    name: &str,
    make: impl Fn(usize) -> T + Copy,
    op: impl Fn(&StridedView<'_, T>) -> f64,
) {
    let mut g = c.benchmark_group(format!("{name}/{}/contiguous", T::NAME));
    for &n in &SIZES {
        let bufs = copies(n, make);
        g.throughput(Throughput::Bytes((n * std::mem::size_of::<T>()) as u64));
        let mut k = 0;
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                k = (k + 1) % bufs.len();
                black_box(op(&StridedView::from_1d(&bufs[k])))
            })
        });
    }
    g.finish();
}

fn bench_sweeps(c: &mut Criterion) {
    sweep(c, "sum", value, stridewise::sum::<f64>);
    sweep(c, "mean", value, |v| stridewise::mean::<f64>(v).value);
    sweep(
        c,
        "mean",
        |i| value(i) as f32,
        |v| stridewise::mean::<f32>(v).value as f64,
    );
    sweep(
        c,
        "sum",
        |i| value(i) as f32,
        |v| stridewise::sum::<f32>(v) as f64,
    );
    sweep(
        c,
        "mean",
        |i| (i % 100_000) as i32,
        |v| stridewise::mean::<i32>(v).value,
    );
    sweep(c, "var", value, |v| stridewise::var::<f64>(v, 0.0).value);
    sweep(c, "min", value, |v| stridewise::min::<f64>(v).unwrap());
    sweep(c, "nanmean", value, |v| stridewise::nanmean::<f64>(v).value);
}

/// The 4000x4000 matrix and its layouts, as (name, view, logical bytes).
fn layouts(m: &Array2<f64>) -> Vec<(&'static str, ArrayView2<'_, f64>)> {
    vec![
        ("contiguous", m.view()),
        ("padded", m.slice(s![.., ..N2 - 1])),
        ("transposed", m.t()),
        ("step2", m.slice(s![.., ..;2])),
        ("reversed", m.slice(s![..;-1, ..;-1])),
    ]
}

fn bench_layouts(c: &mut Criterion) {
    let m = Array2::from_shape_fn((N2, N2), |(i, j)| value(i * N2 + j));
    type Op = fn(&StridedView<'_, f64>) -> f64;
    let ops: [(&str, Op); 5] = [
        ("sum", |v| stridewise::sum(v)),
        ("mean", |v| stridewise::mean(v).value),
        ("var", |v| stridewise::var(v, 0.0).value),
        ("min", |v| stridewise::min(v).unwrap()),
        ("nanmean", |v| stridewise::nanmean(v).value),
    ];
    for (op_name, op) in ops {
        let mut g = c.benchmark_group(format!("layout/{op_name}"));
        for (name, v) in layouts(&m) {
            g.throughput(Throughput::Bytes((v.len() * 8) as u64));
            let sv = StridedView::from(v);
            g.bench_function(name, |b| b.iter(|| black_box(op(&sv))));
        }
        g.finish();
    }
    let mut g = c.benchmark_group("axis/mean");
    g.throughput(Throughput::Bytes((N2 * N2 * 8) as u64));
    let sv = StridedView::from(m.view());
    for axis in [0isize, 1] {
        g.bench_function(format!("axis{axis}"), |b| {
            b.iter(|| black_box(stridewise::mean_axes(&sv, &[axis]).unwrap()))
        });
        g.bench_function(format!("ndarray-axis{axis}"), |b| {
            b.iter(|| black_box(m.mean_axis(ndarray::Axis(axis as usize)).unwrap()))
        });
    }
    g.finish();
    let mut g = c.benchmark_group("baseline/layout");
    for (name, v) in layouts(&m) {
        g.throughput(Throughput::Bytes((v.len() * 8) as u64));
        g.bench_function(format!("ndarray-sum-{name}"), |b| {
            b.iter(|| black_box(v.sum()))
        });
    }
    g.finish();
}

fn bench_baselines(c: &mut Criterion) {
    let mut g = c.benchmark_group("baseline/f64/contiguous");
    for &n in &[1_000usize, 100_000, 10_000_000] {
        let bufs = copies(n, value);
        g.throughput(Throughput::Bytes((n * 8) as u64));
        let mut k = 0;
        g.bench_function(BenchmarkId::new("scalar-fold", n), |b| {
            b.iter(|| {
                k = (k + 1) % bufs.len();
                black_box(bufs[k].iter().fold(0.0, |a, &x| a + x))
            })
        });
        let arrays: Vec<ndarray::Array1<f64>> = bufs
            .iter()
            .map(|v| ndarray::Array1::from(v.clone()))
            .collect();
        g.bench_function(BenchmarkId::new("ndarray-sum", n), |b| {
            b.iter(|| {
                k = (k + 1) % arrays.len();
                black_box(arrays[k].sum())
            })
        });
        g.bench_function(BenchmarkId::new("ndarray-mean", n), |b| {
            b.iter(|| {
                k = (k + 1) % arrays.len();
                black_box(arrays[k].mean())
            })
        });
    }
    g.finish();
}

fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args()
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = bench_probe, bench_sweeps, bench_layouts, bench_baselines
}
criterion_main!(benches);
