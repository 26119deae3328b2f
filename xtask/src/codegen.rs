//! `cargo xtask codegen`: proto/ → crates/byova-media/src/generated (protox + tonic-prost-build).

pub(crate) fn run(_check: bool) -> anyhow::Result<()> {
    anyhow::bail!("codegen is being written (issue 5)")
}
