//! Records the compiler's version for `perfcore::baseline::Environment::runtime`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=RUSTC");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let version = Command::new(rustc)
        .arg("-V")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        // "rustc 1.95.0 (59807616e 2026-04-14)" -> "rustc 1.95.0"
        .map(|v| v.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .filter(|v| v.starts_with("rustc "))
        .unwrap_or_else(|| "rustc (unknown)".to_owned());
    println!("cargo:rustc-env=PERFCORE_RUSTC_VERSION={version}");
}
