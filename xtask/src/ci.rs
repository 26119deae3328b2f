//! `cargo xtask ci`: what CI runs, in the same order, so anyone can reproduce CI locally.
//!
//! `.ci/run` installs the system packages a fresh machine lacks, then runs
//! `cargo xtask ci --skip-tests` followed by the README's test command, `cargo xtask test`.

use std::collections::BTreeMap;
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::sh;

pub(crate) fn run(skip_tests: bool) -> anyhow::Result<()> {
    step("cargo fmt --check");
    sh::run("cargo", &["fmt", "--all", "--", "--check"])?;

    step("cargo clippy");
    sh::run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
    )?;

    step("cargo xtask check");
    crate::check::run()?;

    step("cargo doc");
    sh::run_env(
        "cargo",
        &[
            "doc",
            "--workspace",
            "--all-features",
            "--no-deps",
            "--locked",
        ],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;

    step("the umbrella crate with each feature alone");
    for feature in umbrella_features()? {
        sh::run(
            "cargo",
            &[
                "check",
                "--package",
                "byova",
                "--no-default-features",
                "--features",
                &feature,
                "--locked",
            ],
        )?;
    }

    if !skip_tests {
        step("cargo xtask test");
        crate::test::run(&[])?;
    }
    Ok(())
}

fn step(name: &str) {
    eprintln!("\n==> {name}");
}

/// The umbrella crate's features, `default` excluded.
fn umbrella_features() -> anyhow::Result<Vec<String>> {
    let output = Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("cannot run `cargo metadata`")?;
    if !output.status.success() {
        bail!("`cargo metadata` failed");
    }
    let metadata: Value = serde_json::from_slice(&output.stdout)?;
    let umbrella = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|package| package["name"] == "byova")
        .context("the umbrella crate `byova` is missing")?;
    let features: BTreeMap<String, Value> =
        serde_json::from_value(umbrella["features"].clone()).unwrap_or_default();
    Ok(features
        .into_keys()
        .filter(|name| name != "default")
        .collect())
}
