//! Quick timings used while developing (not a benchmark: see bench/ and `make bench`):
//! `cargo run --release -p stridewise --example quick`. Set STRIDEWISE_NUM_THREADS to compare.
use std::time::Instant;
use stridewise::*;

fn time<R>(name: &str, bytes: usize, reps: usize, mut f: impl FnMut() -> R) {
    let _ = f();
    let t = Instant::now();
    for _ in 0..reps {
        std::hint::black_box(f());
    }
    let dt = t.elapsed().as_secs_f64() / reps as f64;
    println!(
        "{name:40} {:9.2} us  {:7.1} GB/s",
        dt * 1e6,
        bytes as f64 / dt / 1e9
    );
}

fn probe(words: &[u64], threads: usize) -> u64 {
    let chunk = words.len().div_ceil(threads);
    std::thread::scope(|s| {
        let hs: Vec<_> = words
            .chunks(chunk)
            .map(|c| {
                s.spawn(move || {
                    let mut acc = [0u64; 16];
                    for b in c.chunks_exact(16) {
                        for j in 0..16 {
                            acc[j] = acc[j].wrapping_add(b[j]);
                        }
                    }
                    acc.iter().fold(0u64, |a, &b| a.wrapping_add(b))
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap())
            .fold(0, u64::wrapping_add)
    })
}

fn main() {
    for &n in &[10_000_000usize, 100_000_000] {
        let w: Vec<u64> = (0..n as u64).collect();
        for t in [1, 2] {
            time(
                &format!("probe {t} threads {n}"),
                n * 8,
                (1e9 / n as f64) as usize / 10 + 3,
                || probe(&w, t),
            );
        }
    }
    println!("simd {:?} threads {}", simd_level(), get_num_threads());
    for &n in &[
        1000usize, 100_000, 300_000, 1_000_000, 3_000_000, 10_000_000,
    ] {
        let v: Vec<f64> = (0..n).map(|i| (i % 1000) as f64 * 0.001).collect();
        let view = StridedView::from_1d(&v);
        let reps = (1e9 / n as f64) as usize / 10 + 3;
        time(&format!("sum f64 {n}"), n * 8, reps, || sum(&view));
        time(&format!("var f64 {n}"), n * 8, reps, || {
            var(&view, 0.0).value
        });
        time(&format!("min f64 {n}"), n * 8, reps, || min(&view).unwrap());
        time(&format!("nanmean f64 {n}"), n * 8, reps, || {
            nanmean(&view).value
        });
        let s = v.iter().sum::<f64>();
        time(&format!("naive iter sum {n}"), n * 8, reps, || {
            v.iter().sum::<f64>()
        });
        let _ = s;
        let f: Vec<f32> = v.iter().map(|&x| x as f32).collect();
        time(&format!("sum f32 {n}"), n * 4, reps, || {
            sum(&StridedView::from_1d(&f))
        });
        let i: Vec<i32> = (0..n as i32).collect();
        time(&format!("mean i32 {n}"), n * 4, reps, || {
            mean(&StridedView::from_1d(&i)).value
        });
    }
    let n = 4000;
    let v: Vec<f64> = (0..n * n).map(|i| (i % 1000) as f64 * 0.001).collect();
    let c = StridedView::contiguous(&v, &[n, n]).unwrap();
    let padded = StridedView::from_slice(&v, 0, &[n, n - 1], &[n as isize, 1]).unwrap();
    let t = c.permuted(&[1, 0]).unwrap();
    let st = StridedView::from_slice(&v, 0, &[n, n / 2], &[n as isize, 2]).unwrap();
    let b = 16 * n * n;
    time("sum 4000^2 contig", b / 2, 20, || sum(&c));
    time("sum 4000^2 padded", b / 2, 20, || sum(&padded));
    time("sum 4000^2 transposed", b / 2, 20, || sum(&t));
    time("sum 4000^2 [:, ::2]", b / 4, 20, || sum(&st));
    time("mean axis0", b / 2, 20, || mean_axes(&c, &[0]).unwrap());
    time("mean axis1", b / 2, 20, || mean_axes(&c, &[1]).unwrap());
    time("var axis0", b / 2, 10, || var_axes(&c, &[0], 0.0).unwrap());
    time("var axis1", b / 2, 10, || var_axes(&c, &[1], 0.0).unwrap());
}
