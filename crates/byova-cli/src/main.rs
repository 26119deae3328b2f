//! The `byova` command.

fn main() {}
