//! Profiling driver: one kernel in a loop (`hot OP N REPS`; OP `axis0:R` is the axis-0
//! mean of R rows of N / R; `f32axis0:R` the same of f32; `argmax1:R` argmax along axis 1 of
//! R rows). Data: see `v` below.
use stridewise::*;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let n: usize = a[2].parse().unwrap();
    let reps: usize = a[3].parse().unwrap();
    // Near-normal data about 1 (the sum of four uniforms, as numpy's benchmarks' normal + 1
    // for what matters here: full mantissas, a few binades, no exact cancellation); with
    // `STRIDEWISE_HOT_DATA=steps`, the earlier `(i % 1000) * 0.001`, whose columns of a
    // width of 1000 are constant (many outputs then take the exact fallback).
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let steps = std::env::var("STRIDEWISE_HOT_DATA").is_ok_and(|d| d == "steps");
    let v: Vec<f64> = (0..n)
        .map(|i| {
            if steps {
                (i % 1000) as f64 * 0.001
            } else {
                (0..4).map(|_| uniform()).sum::<f64>() - 1.0
            }
        })
        .collect();
    let iv: Vec<i32> = (0..n as i32).collect();
    let fv: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    let view = StridedView::from_1d(&v);
    let side = (n as f64).sqrt() as usize;
    // `axis0` and `f32axis0` reduce a square matrix of about N elements; `...:R` one of R rows.
    let rows = a[1]
        .split_once(':')
        .map_or(side, |(_, r)| r.parse().unwrap());
    let m = StridedView::contiguous(&v[..rows * (n / rows)], &[rows, n / rows]).unwrap();
    let m32 = StridedView::contiguous(&fv[..rows * (n / rows)], &[rows, n / rows]).unwrap();
    let mut acc = 0.0;
    let mut best = f64::INFINITY;
    let mut clock = std::time::Instant::now();
    for rep in 0..reps {
        if rep % 50 == 0 && rep > 0 {
            best = best.min(clock.elapsed().as_secs_f64() / 50.0);
            clock = std::time::Instant::now();
        }
        acc += match a[1].as_str() {
            "sum" => sum(&view),
            "min" => min(&view).unwrap(),
            "var" => var(&view, 0.0).value,
            "mean_i32" => mean(&StridedView::from_1d(&iv)).value,
            o if o.starts_with("f32axis0") => mean_axes(&m32, &[0]).unwrap().data[0] as f64,
            o if o.starts_with("axis0") => mean_axes(&m, &[0]).unwrap().data[0],
            "step2" => sum(&m.sliced(1, 0, n / rows, 2).unwrap()),
            o if o.starts_with("argmax1") => argmax_axis(&m, 1).unwrap().data[0] as f64,
            _ => nanmean(&view).value,
        };
    }
    // The fastest block of 50 calls, per call (the first block's figure is discarded).
    eprintln!("{:.2} us per call (best block of 50)", best * 1e6);
    println!("{acc}");
}
