//! Fault injection at the identity broker: a key server answering 429 storms, 5xx, slow
//! responses, connection resets and cut-off documents. Cached keys keep verifying, a cold
//! verifier answers `KeySetUnavailable` (and the gRPC layer `UNAVAILABLE`), fetches stay bounded
//! by the cool-down, and everything recovers when the broker does.

mod broker;
mod cold;
mod grpc;
mod warm;

use std::time::Duration;

use byova_jws::{ErrorKind, Verifier};

use crate::support::{TokenSpec, builder_for};

/// Key-set fetch timeout of the test verifiers: short enough for the stalled broker, long
/// enough for a loopback fetch on a loaded machine.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(2);

/// A verifier for `issuer` with the test fetch timeout.
pub fn verifier(issuer: &str) -> Verifier {
    builder_for(issuer)
        .fetch_timeout(FETCH_TIMEOUT)
        .build()
        .expect("verifier")
}

/// Waits until no key-set fetch of `issuer` is running, without starting one: a token with an
/// unknown `kid` queues behind the running fetch (single flight) and then finds the cool-down.
pub async fn settle(verifier: &Verifier, issuer: &str) {
    let rogue = TokenSpec::valid(issuer).header("kid", "rogue").sign();
    let kind = verifier.verify(&rogue).await.unwrap_err().kind();
    assert!(
        matches!(kind, ErrorKind::UnknownKey | ErrorKind::KeySetUnavailable),
        "{kind:?}"
    );
}
