//! What this machine lets the end-to-end tests check (nothing in the command depends on it):
//! giving a file to another user needs root, `cfg(idenfy_tests_as_root)`; a confirmation on a
//! terminal needs util-linux `script`, `cfg(idenfy_tests_have_script)`. Without them, those
//! tests are reported as ignored, never as passed.

use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(idenfy_tests_as_root)");
    println!("cargo::rustc-check-cfg=cfg(idenfy_tests_have_script)");
    let says = |program: &str, argument: &str| {
        Command::new(program)
            .arg(argument)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    if says("id", "-u").as_deref() == Some("0") {
        println!("cargo::rustc-cfg=idenfy_tests_as_root");
    }
    if says("script", "--version").is_some() {
        println!("cargo::rustc-cfg=idenfy_tests_have_script");
    }
}
