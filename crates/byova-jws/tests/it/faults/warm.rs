//! A verifier that has the keys keeps verifying through every kind of broker outage: stale keys
//! serve, one refresh per cool-down is attempted, and a recovered broker's new key set is used.

use std::time::Duration;

use byova_jws::ErrorKind;
use futures_util::future::join_all;

use super::broker::{Answer, FlakyBroker};
use super::{settle, verifier};
use crate::support::{COOLDOWN, TTL, TokenSpec, jump, keys, verify_fresh};

const CALLS: usize = 20;
const RETRY_AFTER: u64 = 600;

#[tokio::test]
async fn cached_keys_verify_through_every_outage_and_the_recovered_set_is_used() {
    let broker = FlakyBroker::start(Answer::keys(&[&keys().a])).await;
    let issuer = broker.issuer();
    let verifier = verifier(&issuer);
    verify_fresh(&verifier, &issuer).await.expect("key a");
    assert_eq!(broker.fetches(), 1);

    let mut expected_fetches = 1;
    for (outage, _) in Answer::outages() {
        broker.answer(outage.clone());
        // Past the TTL: the keys are stale and a refresh is due.
        jump(TTL).await;
        let results = join_all((0..CALLS).map(|_| verify_fresh(&verifier, &issuer))).await;
        assert!(
            results.iter().all(Result::is_ok),
            "{outage:?}: stale keys must keep verifying: {results:?}"
        );
        settle(&verifier, &issuer).await;
        expected_fetches += 1;
        assert_eq!(
            broker.fetches(),
            expected_fetches,
            "{outage:?}: one refresh"
        );

        // Inside the cool-down: still verifying, nothing fetched.
        for _ in 0..CALLS {
            verify_fresh(&verifier, &issuer)
                .await
                .unwrap_or_else(|kind| panic!("{outage:?}: {kind:?}"));
        }
        // After it: exactly one more attempt, and the keys still serve.
        jump(COOLDOWN).await;
        verify_fresh(&verifier, &issuer).await.expect("stale keys");
        settle(&verifier, &issuer).await;
        expected_fetches += 1;
        assert_eq!(broker.fetches(), expected_fetches, "{outage:?}: one retry");
    }

    // The broker recovers, having rotated to key b.
    broker.answer(Answer::keys(&[&keys().b]));
    jump(COOLDOWN).await;
    verify_fresh(&verifier, &issuer).await.expect("stale key a");
    settle(&verifier, &issuer).await;
    assert_eq!(broker.fetches(), expected_fetches + 1);
    assert_eq!(
        verify_fresh(&verifier, &issuer).await,
        Err(ErrorKind::UnknownKey),
        "the recovered set replaced the stale one"
    );
    verifier
        .verify(&TokenSpec::valid(&issuer).key(&keys().b).sign())
        .await
        .expect("key b");
}

#[tokio::test]
async fn a_429_storm_with_retry_after_is_honoured_while_stale_keys_serve() {
    let broker = FlakyBroker::start(Answer::keys(&[&keys().a])).await;
    let issuer = broker.issuer();
    let verifier = verifier(&issuer);
    verify_fresh(&verifier, &issuer).await.expect("key a");

    broker.answer(Answer::TooMany(Some(RETRY_AFTER)));
    jump(TTL).await;
    verify_fresh(&verifier, &issuer).await.expect("stale keys");
    settle(&verifier, &issuer).await;
    assert_eq!(broker.fetches(), 2);
    // Nine cool-downs fit inside the ten minutes Webex asked for: no fetch at all.
    for _ in 0..9 {
        jump(COOLDOWN).await;
        for _ in 0..CALLS {
            verify_fresh(&verifier, &issuer).await.expect("stale keys");
        }
        settle(&verifier, &issuer).await;
    }
    assert_eq!(broker.fetches(), 2, "Retry-After must be honoured");
    // Once it has passed, one attempt (still rate limited) …
    jump(Duration::from_secs(
        RETRY_AFTER - 9 * COOLDOWN.as_secs() + 1,
    ))
    .await;
    verify_fresh(&verifier, &issuer).await.expect("stale keys");
    settle(&verifier, &issuer).await;
    assert_eq!(broker.fetches(), 3);
    // … and another after the next Retry-After, which succeeds with the rotated set.
    broker.answer(Answer::keys(&[&keys().b]));
    jump(Duration::from_secs(RETRY_AFTER + 1)).await;
    verify_fresh(&verifier, &issuer).await.expect("stale keys");
    settle(&verifier, &issuer).await;
    assert_eq!(broker.fetches(), 4);
    verifier
        .verify(&TokenSpec::valid(&issuer).key(&keys().b).sign())
        .await
        .expect("key b");
}
