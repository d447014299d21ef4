//! Every reduction against a scalar reference and an exact oracle, over random strided views
//! (ranks 0-5, negative/zero/stepped strides, permuted axes, misaligned bases, NaN/inf), for
//! every element type, at every SIMD level the machine has; the results of all levels must be
//! bitwise identical.

use crate::common::checks::property;

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
