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
    for _ in 0..reps {
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
    println!("{acc}");
}
