//! `include/stridewise.h` from the C API's source, by cbindgen (settings in
//! `crates/capi/cbindgen.toml`). `--check` (what `make test` runs) fails when the committed
//! header differs from what cbindgen makes of the source now; without it, the header is
//! rewritten.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let check = std::env::args().skip(1).any(|a| a == "--check");
    let capi = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates/capi");
    let config = cbindgen::Config::from_file(capi.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut fresh = Vec::new();
    cbindgen::Builder::new()
        .with_crate(capi)
        .with_config(config)
        .generate()
        .expect("cbindgen reads the C API's source")
        .write(&mut fresh);
    let path = capi.join("include/stridewise.h");
    if !check {
        std::fs::write(&path, &fresh).expect("write the header");
        println!("wrote {}", path.display());
        return ExitCode::SUCCESS;
    }
    if std::fs::read(&path).ok().as_deref() == Some(&fresh[..]) {
        println!("ok {} is current", path.display());
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "{} is stale: regenerate it with `cargo run -p stridewise-capi-header` and commit it",
            path.display()
        );
        ExitCode::FAILURE
    }
}
