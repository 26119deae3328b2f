//! `cargo xtask test`: install what the tests need when it is missing, then run every test.
//!
//! Prerequisites: `redis-server` (byova-auth's Redis store is tested against a real server).
//! They are installed with apt when missing (as root, or through sudo). The suite then runs with
//! cargo-nextest when available (else `cargo test`), plus the doc tests.

use anyhow::bail;

use crate::sh;

/// Programs the tests start, with the Debian package that provides each.
const PREREQUISITES: &[(&str, &str)] = &[("redis-server", "redis-server")];

pub(crate) fn run(extra: &[String]) -> anyhow::Result<()> {
    install_missing()?;
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    if sh::has_program("cargo-nextest") {
        let mut args = vec![
            "nextest",
            "run",
            "--workspace",
            "--all-features",
            "--all-targets",
            "--no-fail-fast",
            "--profile",
            "ci",
        ];
        args.extend(&extra);
        sh::run("cargo", &args)?;
    } else {
        let mut args = vec![
            "test",
            "--workspace",
            "--all-features",
            "--all-targets",
            "--no-fail-fast",
        ];
        if !extra.is_empty() {
            args.push("--");
            args.extend(&extra);
        }
        sh::run("cargo", &args)?;
    }
    sh::run("cargo", &["test", "--workspace", "--all-features", "--doc"])
}

/// Installs missing prerequisite programs with apt.
pub(crate) fn install_missing() -> anyhow::Result<()> {
    let missing: Vec<&str> = PREREQUISITES
        .iter()
        .filter(|(program, _)| !sh::has_program(program) && !in_sbin(program))
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("installing test prerequisites: {}", missing.join(" "));
    apt_install(&missing)
}

/// `apt-get install -y PACKAGES`, as root or through sudo.
pub(crate) fn apt_install(packages: &[&str]) -> anyhow::Result<()> {
    let root = sh::is_root();
    let (program, prefix): (&str, Vec<&str>) = if root {
        ("apt-get", vec![])
    } else if sh::has_program("sudo") {
        ("sudo", vec!["-n", "apt-get"])
    } else {
        bail!(
            "missing {}: install them (`apt-get install -y {}`) and run again",
            packages.join(", "),
            packages.join(" ")
        );
    };
    let mut update = prefix.clone();
    update.extend(["update", "-qq"]);
    sh::run_env(program, &update, &[("DEBIAN_FRONTEND", "noninteractive")])?;
    let mut install = prefix;
    install.extend(["install", "-y", "-qq", "--no-install-recommends"]);
    install.extend(packages);
    sh::run_env(program, &install, &[("DEBIAN_FRONTEND", "noninteractive")])
}

/// Debian installs servers into /usr/sbin, which is not on every user's PATH.
fn in_sbin(program: &str) -> bool {
    ["/usr/sbin", "/usr/bin", "/usr/local/bin"]
        .iter()
        .any(|dir| std::path::Path::new(dir).join(program).is_file())
}
