//! `cargo xtask fixtures`: spoken test fixtures with espeak-ng.

pub(crate) fn run() -> anyhow::Result<()> {
    anyhow::bail!("fixtures are being written (issue 5)")
}
