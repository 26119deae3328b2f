//! Integration tests of byova-models: one binary, one module per topic.

mod fixtures;
mod ids;
mod redaction;
mod round_trips;
mod tokens;
