//! `byova_auth` — placeholder crate docs; filled in by its issue.
