//! The tests over the vendor's pages run only where `IDENFY_DOCS_DIR` names them: this sets
//! `cfg(idenfy_docs)` then, and without it those tests are reported as ignored (skipped), never
//! as passed.

fn main() {
    println!("cargo::rerun-if-env-changed=IDENFY_DOCS_DIR");
    println!("cargo::rustc-check-cfg=cfg(idenfy_docs)");
    if std::env::var_os("IDENFY_DOCS_DIR").is_some_and(|dir| !dir.is_empty()) {
        println!("cargo::rustc-cfg=idenfy_docs");
    }
}
