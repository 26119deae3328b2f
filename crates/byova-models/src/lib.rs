//! `byova_models` — placeholder crate docs; filled in by its issue.
