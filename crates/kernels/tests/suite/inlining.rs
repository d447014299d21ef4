//! The SIMD kernels' vector operations are compiled inline, in the SIMD level's context.
//!
//! pulp runs a kernel inside a function compiled with the level's target features (AVX2,
//! AVX-512...). Code the compiler leaves out of line loses them: a closure does not inherit
//! the features, so an intrinsic it calls cannot be inlined into it and every vector add
//! becomes a function call. At 4afcf2f a closure in the f64 sum did exactly that and the sum
//! ran 20-50x slower, with every result still correct. The symptom is visible without timing
//! anything: the intrinsics (`core::core_arch::...::_mm256_add_pd`) then exist as functions of
//! their own in the binary. This test lists this binary's symbols (it links the kernels, which
//! are instantiated in the stridewise crate, as the Python package does) with `nm`.

/// Out-of-line `core_arch` functions that are not vector arithmetic: CPU feature detection.
const ALLOWED: [&str; 2] = ["_xgetbv", "__cpuid"];

#[test]
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn no_simd_intrinsic_is_compiled_out_of_line() {
    if cfg!(debug_assertions) {
        println!("skipped: inlining is only promised by the release build (make cargo-test)");
        return;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = std::process::Command::new("nm")
        .arg("-C")
        .arg(&exe)
        .output()
        .expect("`nm` (binutils) lists the test binary's symbols; install binutils");
    assert!(out.status.success(), "nm failed: {out:?}");
    let symbols = String::from_utf8_lossy(&out.stdout);
    // The list must include the kernels, or it proves nothing (a stripped binary).
    assert!(
        symbols.contains("pulp::") && symbols.contains("stridewise::"),
        "no kernel symbols in {exe:?}: is the test binary stripped?"
    );
    let outlined: Vec<&str> = symbols
        .lines()
        .filter(|l| l.contains("core::core_arch::"))
        .filter(|l| !ALLOWED.iter().any(|a| l.ends_with(a)))
        .collect();
    assert!(
        outlined.is_empty(),
        "SIMD intrinsics compiled as functions of their own (each vector operation a call): \
         a closure or a function without #[inline(always)] between pulp's `vectorize` and \
         the intrinsics:\n{}",
        outlined.join("\n")
    );
}
