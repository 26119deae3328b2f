//! `byova_jws` — placeholder crate docs; filled in by its issue.
