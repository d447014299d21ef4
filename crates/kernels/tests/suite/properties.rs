//! Every reduction against a scalar reference and an exact oracle, over random strided views
//! (ranks 0-5, negative/zero/stepped strides, permuted axes, misaligned bases, NaN/inf), for
//! every element type, at every SIMD level the machine has; the results of all levels must be
//! bitwise identical.

use crate::common::checks::{check_view, property, Check};
use crate::common::Rng;
use stridewise::StridedView;

/// The share of the cases to run: `STRIDEWISE_TEST_FRACTION` (default 1). The aarch64 run
/// under qemu (`make test-aarch64`), tens of times slower than the hardware, uses a part.
fn cases(n: usize) -> usize {
    let f: f64 = std::env::var("STRIDEWISE_TEST_FRACTION")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|f: &f64| *f > 0.0 && *f <= 1.0)
        .unwrap_or(1.0);
    ((n as f64 * f).ceil() as usize).max(1)
}

macro_rules! property_tests {
    ($($name:ident: $t:ty, $seed:expr;)*) => {$(
        #[test]
        fn $name() {
            // Small dims: many layouts per case. Then a few larger ones that cross the SIMD
            // block and fold sizes.
            property::<$t>($seed, cases(300), 5);
            property::<$t>($seed ^ 0xabcdef, cases(20), 40);
        }
    )*};
}

property_tests! {
    all_reductions_f64: f64, 1;
    all_reductions_f32: f32, 2;
    all_reductions_i8: i8, 3;
    all_reductions_i16: i16, 4;
    all_reductions_i32: i32, 5;
    all_reductions_i64: i64, 6;
    all_reductions_u8: u8, 7;
    all_reductions_u16: u16, 8;
    all_reductions_u32: u32, 9;
    all_reductions_u64: u64, 10;
    all_reductions_bool: bool, 11;
}

/// Interleaved outputs: pixels of `c` channels reduced over the pixels, the channels kept
/// (`mean(img, axis=(0, 1))`), which the vertical path reads as wide rows of many pixels.
/// Contiguous, padded rows, reversed rows, reversed channels, a frame axis, a reduced axis
/// whose length has no divisor to widen by (41), and a channel count above a tile's worth.
fn interleaved<T: Check>(seed: u64) {
    let mut rng = Rng(seed);
    for (h, w, c, pad) in [
        (6, 40, 3, 0),
        (5, 64, 4, 7),
        (3, 41, 3, 0),
        (7, 33, 1, 2),
        (4, 24, 2, 5),
        (9, 32, 130, 0),
    ] {
        let row = w * c + pad;
        let mut data: Vec<T> = (0..h * row + 3).map(|_| T::random(&mut rng)).collect();
        if let Some(nan) = T::nan() {
            data[row + c] = nan;
        }
        let shape = [h, w, c];
        let strides = [row as isize, c as isize, 1];
        let v = StridedView::from_slice(&data, 3, &shape, &strides).unwrap();
        let flipped_rows = v.sliced(0, h - 1, usize::MAX, -1).unwrap();
        let flipped_channels = v.sliced(2, c - 1, usize::MAX, -1).unwrap();
        let what = format!("{h}x{w}x{c} pad {pad}");
        for view in [&v, &flipped_rows, &flipped_channels] {
            check_view(view, &[0, 1], &[0, 1], &what);
            check_view(view, &[1], &[1], &what);
        }
        // Frames: (2, h/2, w, c) over the pixels of each frame.
        let frames = StridedView::from_slice(
            &data,
            3,
            &[2, h / 2, w, c],
            &[(h / 2 * row) as isize, row as isize, c as isize, 1],
        )
        .unwrap();
        check_view(&frames, &[1, 2], &[1, 2], &what);
    }
}

#[test]
fn interleaved_channels() {
    interleaved::<f64>(21);
    interleaved::<f32>(22);
    interleaved::<u8>(23);
    interleaved::<i16>(24);
    interleaved::<i64>(25);
    interleaved::<bool>(26);
}

/// Short rows one after another in memory (a middle axis: rows of `m` adjacent outputs),
/// which the vertical path reads as four streams a quarter of the unit apart, with the last
/// `n % 4` rows after them: every reduced position counted once, whatever `n`.
fn short_adjacent_rows<T: Check>(seed: u64) {
    let mut rng = Rng(seed);
    for (a, n, m) in [
        (2, 8, 3),
        (3, 9, 40),
        (2, 10, 17),
        (1, 11, 130),
        (2, 13, 64),
        (2, 37, 33),
    ] {
        let mut data: Vec<T> = (0..a * n * m + 1).map(|_| T::random(&mut rng)).collect();
        if let Some(nan) = T::nan() {
            data[1 + (n - 1) * m + 2] = nan; // the last row of the first block
        }
        let v = StridedView::from_slice(&data, 1, &[a, n, m], &[(n * m) as isize, m as isize, 1])
            .unwrap();
        let what = format!("{a}x{n}x{m}");
        check_view(&v, &[1], &[1], &what);
        check_view(&v, &[0, 1], &[0, 1], &what);
    }
}

#[test]
fn short_adjacent_rows_every_type() {
    short_adjacent_rows::<f64>(31);
    short_adjacent_rows::<f32>(32);
    short_adjacent_rows::<u8>(33);
    short_adjacent_rows::<i16>(34);
    short_adjacent_rows::<i64>(35);
    short_adjacent_rows::<bool>(36);
}
