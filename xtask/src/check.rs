//! `cargo xtask check`: layering, feature reachability, stale codegen.

pub(crate) fn run() -> anyhow::Result<()> {
    anyhow::bail!("check is being written (issue 2)")
}
