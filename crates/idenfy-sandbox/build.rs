//! What this machine lets the report's rendering tests check (nothing in the sandbox depends
//! on it): poppler's `pdftoppm` and `pdftotext`, `cfg(idenfy_tests_have_poppler)`. Without
//! them, those tests are reported as ignored, never as passed.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(idenfy_tests_have_poppler)");
    let found = |program: &str| {
        std::process::Command::new(program)
            .arg("-v")
            .output()
            .is_ok()
    };
    if found("pdftoppm") && found("pdftotext") {
        println!("cargo::rustc-cfg=idenfy_tests_have_poppler");
    }
}
