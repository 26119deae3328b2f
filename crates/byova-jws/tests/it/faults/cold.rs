//! A verifier without keys facing a broker outage: every call is `KeySetUnavailable` with the
//! cause in the detail, concurrent calls share one fetch, one fetch per cool-down at most, and
//! the first call after the broker recovers verifies.

use std::time::Duration;

use byova_jws::ErrorKind;
use futures_util::future::join_all;

use super::broker::{Answer, FlakyBroker};
use super::verifier;
use crate::support::{COOLDOWN, TokenSpec, jump, keys, verify_fresh};

const CALLS: usize = 50;

#[tokio::test]
async fn a_cold_verifier_is_unavailable_through_every_outage_and_recovers() {
    let broker = FlakyBroker::start(Answer::Status(503)).await;
    let issuer = broker.issuer();
    let mut fetches = 0;
    for (outage, detail) in Answer::outages() {
        broker.answer(outage.clone());
        let verifier = verifier(&issuer);

        // Concurrent first calls: one fetch, every call unavailable with the cause.
        let tokens: Vec<String> = (0..CALLS)
            .map(|_| TokenSpec::valid(&issuer).sign())
            .collect();
        let results = join_all(tokens.iter().map(|token| verifier.verify(token))).await;
        for result in results {
            let err = result.expect_err("no keys, no verification");
            assert_eq!(
                err.kind(),
                ErrorKind::KeySetUnavailable,
                "{outage:?}: {err}"
            );
            assert!(err.detail().contains(detail), "{outage:?}: {err}");
            assert!(err.detail().contains(&issuer), "{outage:?}: {err}");
        }
        fetches += 1;
        assert_eq!(broker.fetches(), fetches, "{outage:?}: single flight");

        // Inside the cool-down: no fetch, however many calls.
        for _ in 0..CALLS {
            assert_eq!(
                verify_fresh(&verifier, &issuer).await,
                Err(ErrorKind::KeySetUnavailable),
                "{outage:?}"
            );
        }
        assert_eq!(broker.fetches(), fetches, "{outage:?}: cool-down");

        // Each cool-down allows one more attempt.
        for _ in 0..2 {
            jump(COOLDOWN).await;
            let results = join_all((0..10).map(|_| verify_fresh(&verifier, &issuer))).await;
            assert!(
                results
                    .iter()
                    .all(|r| *r == Err(ErrorKind::KeySetUnavailable)),
                "{outage:?}: {results:?}"
            );
            fetches += 1;
            assert_eq!(broker.fetches(), fetches, "{outage:?}: one per cool-down");
        }

        // The broker recovers: the first call after the cool-down verifies.
        broker.answer(Answer::keys(&[&keys().a]));
        jump(COOLDOWN).await;
        verify_fresh(&verifier, &issuer)
            .await
            .unwrap_or_else(|kind| panic!("{outage:?}: not recovered: {kind:?}"));
        fetches += 1;
        assert_eq!(broker.fetches(), fetches, "{outage:?}: recovery fetch");
    }
}

#[tokio::test]
async fn a_cold_verifier_honours_retry_after_in_a_429_storm() {
    let broker = FlakyBroker::start(Answer::TooMany(Some(120))).await;
    let issuer = broker.issuer();
    let verifier = verifier(&issuer);
    let err = verifier
        .verify(&TokenSpec::valid(&issuer).sign())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeySetUnavailable);
    assert!(err.detail().contains("rate limited (429)"), "{err}");

    // Three cool-downs (93 s) inside the 120 s: no fetch.
    for _ in 0..3 {
        jump(COOLDOWN).await;
        assert_eq!(
            verify_fresh(&verifier, &issuer).await,
            Err(ErrorKind::KeySetUnavailable)
        );
    }
    assert_eq!(broker.fetches(), 1);
    // Without Retry-After the cool-down applies again.
    broker.answer(Answer::TooMany(None));
    jump(Duration::from_secs(120 - 3 * 31 + 1)).await;
    assert_eq!(
        verify_fresh(&verifier, &issuer).await,
        Err(ErrorKind::KeySetUnavailable)
    );
    assert_eq!(broker.fetches(), 2);
    broker.answer(Answer::keys(&[&keys().a]));
    jump(COOLDOWN).await;
    verify_fresh(&verifier, &issuer).await.expect("recovered");
    assert_eq!(broker.fetches(), 3);
}
