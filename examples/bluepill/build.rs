//! Puts the right memory layout where cortex-m-rt's `link.x` finds `memory.x`: the Blue
//! Pill's (64 KiB flash, 20 KiB RAM) or, with feature `qemu`, the 8 KiB RAM of QEMU's
//! stm32vldiscovery. The files are not called `memory.x`: one in the package root would
//! shadow the copy written here.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let layout = if env::var_os("CARGO_FEATURE_QEMU").is_some() {
        "memory-qemu.x"
    } else {
        "memory-bluepill.x"
    };
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR not set"));
    fs::copy(layout, out.join("memory.x")).expect("copy the memory layout");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory-bluepill.x");
    println!("cargo:rerun-if-changed=memory-qemu.x");
    println!("cargo:rerun-if-changed=build.rs");
}
