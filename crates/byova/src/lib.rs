//! `byova` — placeholder crate docs; filled in by its issue.
