//! Profiling driver: one kernel in a loop (`hot OP N REPS`).
use stridewise::*;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let n: usize = a[2].parse().unwrap();
    let reps: usize = a[3].parse().unwrap();
    let v: Vec<f64> = (0..n).map(|i| (i % 1000) as f64 * 0.001).collect();
    let iv: Vec<i32> = (0..n as i32).collect();
    let view = StridedView::from_1d(&v);
    let side = (n as f64).sqrt() as usize;
    let m = StridedView::contiguous(&v[..side * side], &[side, side]).unwrap();
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
            "axis0" => mean_axes(&m, &[0]).unwrap().data[0],
            "step2" => sum(&m.sliced(1, 0, side, 2).unwrap()),
            _ => nanmean(&view).value,
        };
    }
    // The fastest block of 50 calls, per call (the first block's figure is discarded).
    eprintln!("{:.2} us per call (best block of 50)", best * 1e6);
    println!("{acc}");
}
