//! `byova_api` — placeholder crate docs; filled in by its issue.
