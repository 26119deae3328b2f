//! Cross-crate end-to-end tests: the crates working together against loopback stand-ins.

mod byods_and_media;
mod support;
