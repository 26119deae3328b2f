//! The per-RPC state machine of the media server: arbitrary sequences of `ProcessCallerInput`
//! RPCs (every oneof, unknown enum values, audio of any encoding, rate and size, overlapping and
//! cancelled RPCs) against a real server on 127.0.0.1, with an agent whose replies the input
//! chooses (including errors and a panic).
//!
//! The input model and invariants live in the proptest twin, which this target includes:
//! `crates/byova-media/tests/it/fuzz_rpc.rs`.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/byova-media/tests/it/fuzz_rpc.rs"]
mod model;

/// libFuzzer aborts on every panic; the agent's deliberate panic (which the server must catch)
/// is let through, every other one still aborts.
fn let_the_agent_panic() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            if message != Some(model::AGENT_PANIC) {
                abort(info);
            }
        }));
    });
}

fuzz_target!(|input: model::Input| {
    let_the_agent_panic();
    model::check(&input);
});
