//! Every reduction against a scalar reference and an exact oracle, over random strided views
//! (ranks 0-5, negative/zero/stepped strides, permuted axes, misaligned bases, NaN/inf), for
//! every element type, at every SIMD level the machine has; the results of all levels must be
//! bitwise identical.

use crate::common::checks::property;

macro_rules! property_tests {
    ($($name:ident: $t:ty, $seed:expr;)*) => {$(
        #[test]
        fn $name() {
            // Small dims: many layouts per case. Then a few larger ones that cross the SIMD
            // block and fold sizes.
            property::<$t>($seed, 300, 5);
            property::<$t>($seed ^ 0xabcdef, 20, 40);
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
