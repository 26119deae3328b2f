//! Key-set fetching: single flight, rotation, cool-down, TTL, `Cache-Control`, stale-on-error,
//! rate limits and unreachable servers, observed through a loopback server that counts fetches.

use std::time::Duration;

use byova_jws::ErrorKind;
use futures_util::future::join_all;

use crate::support::{
    COOLDOWN, KeyServer, Serve, TTL, TokenSpec, builder_for, dead_issuer, eventually, jump, keys,
    verifier_for, verify_fresh,
};

#[tokio::test]
async fn one_fetch_serves_many_tokens() {
    let server = KeyServer::with_keys(&[&keys().a]).await;
    let verifier = verifier_for(&server.issuer());
    for _ in 0..10 {
        verify_fresh(&verifier, &server.issuer())
            .await
            .expect("valid");
    }
    assert_eq!(server.fetches(), 1);
}

#[tokio::test]
async fn concurrent_first_calls_share_one_fetch() {
    let server = KeyServer::with_keys(&[&keys().a]).await;
    let verifier = verifier_for(&server.issuer());
    let tokens: Vec<String> = (0..50)
        .map(|_| TokenSpec::valid(&server.issuer()).sign())
        .collect();
    let results = join_all(tokens.iter().map(|token| verifier.verify(token))).await;
    for result in results {
        result.expect("valid");
    }
    assert_eq!(server.fetches(), 1);
}

#[tokio::test]
async fn a_rotated_key_triggers_one_refetch_and_passes() {
    let server = KeyServer::with_keys(&[&keys().a]).await;
    let issuer = server.issuer();
    let verifier = verifier_for(&issuer);
    verify_fresh(&verifier, &issuer).await.expect("key a");
    assert_eq!(server.fetches(), 1);

    server.serve_keys(&[&keys().a, &keys().b]);
    jump(COOLDOWN).await;
    let rotated = TokenSpec::valid(&issuer).key(&keys().b);
    verifier
        .verify(&rotated.sign())
        .await
        .expect("key b after refetch");
    assert_eq!(server.fetches(), 2);
    // Both keys now verify without further fetches.
    verifier
        .verify(&TokenSpec::valid(&issuer).key(&keys().b).sign())
        .await
        .expect("key b");
    verify_fresh(&verifier, &issuer).await.expect("key a");
    assert_eq!(server.fetches(), 2);
}

#[tokio::test]
async fn a_new_kid_right_after_a_fetch_waits_for_the_cooldown() {
    let server = KeyServer::with_keys(&[&keys().a]).await;
    let issuer = server.issuer();
    let verifier = verifier_for(&issuer);
    verify_fresh(&verifier, &issuer).await.expect("key a");
    server.serve_keys(&[&keys().a, &keys().b]);

    let rotated = TokenSpec::valid(&issuer).key(&keys().b).sign();
    let err = verifier.verify(&rotated).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownKey);
    assert_eq!(server.fetches(), 1, "refetch inside the cool-down");

    jump(COOLDOWN).await;
    verifier
        .verify(&rotated)
        .await
        .expect("after the cool-down");
    assert_eq!(server.fetches(), 2);
}

#[tokio::test]
async fn a_hundred_unknown_kids_inside_one_cooldown_cause_at_most_one_fetch() {
    let server = KeyServer::with_keys(&[&keys().a]).await;
    let issuer = server.issuer();
    let verifier = verifier_for(&issuer);
    verify_fresh(&verifier, &issuer).await.expect("key a");
    jump(COOLDOWN).await;

    let rogue: Vec<String> = (0..100)
        .map(|i| {
            TokenSpec::valid(&issuer)
                .header("kid", format!("rogue-{i}"))
                .sign()
        })
        .collect();
    let results = join_all(rogue.iter().map(|token| verifier.verify(token))).await;
    for result in results {
        assert_eq!(result.unwrap_err().kind(), ErrorKind::UnknownKey);
    }
    for token in &rogue {
        assert_eq!(
            verifier.verify(token).await.unwrap_err().kind(),
            ErrorKind::UnknownKey
        );
    }
    assert_eq!(
        server.fetches(),
        2,
        "one initial fetch and at most one refetch"
    );
    // Genuine tokens were never affected.
    verify_fresh(&verifier, &issuer).await.expect("key a");
}

#[tokio::test]
async fn cached_keys_keep_working_with_the_key_server_down() {
    let server = KeyServer::with_keys(&[&keys().a]).await;
    let issuer = server.issuer();
    let verifier = verifier_for(&issuer);
    verify_fresh(&verifier, &issuer).await.expect("key a");
    let fetches = server.stop();
    assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 1);

    for _ in 0..5 {
        verify_fresh(&verifier, &issuer).await.expect("cached keys");
    }
    // Past the TTL and the cool-down the refresh fails, and the stale keys still serve.
    jump(TTL).await;
    for _ in 0..5 {
        verify_fresh(&verifier, &issuer).await.expect("stale keys");
    }
    // An unknown kid is an unknown key (the set exists), not an outage.
    let rotated = TokenSpec::valid(&issuer).key(&keys().b).sign();
    assert_eq!(
        verifier.verify(&rotated).await.unwrap_err().kind(),
        ErrorKind::UnknownKey
    );
}

#[tokio::test]
async fn after_the_ttl_a_failing_server_leaves_the_stale_keys_in_service() {
    let server = KeyServer::with_keys(&[&keys().a]).await;
    let issuer = server.issuer();
    let verifier = verifier_for(&issuer);
    verify_fresh(&verifier, &issuer).await.expect("key a");
    server.serve(Serve::Status(500));

    jump(TTL).await;
    verify_fresh(&verifier, &issuer).await.expect("stale keys");
    eventually("the background refresh reaches the server", || async {
        server.fetches() == 2
    })
    .await;
    // An unknown kid waits for the running fetch (single flight), then finds the cool-down:
    // this also makes sure the failure was recorded before time moves on.
    let rotated = TokenSpec::valid(&issuer).key(&keys().b).sign();
    assert_eq!(
        verifier.verify(&rotated).await.unwrap_err().kind(),
        ErrorKind::UnknownKey
    );
    for _ in 0..5 {
        verify_fresh(&verifier, &issuer).await.expect("stale keys");
    }
    assert_eq!(server.fetches(), 2);
    // One attempt per cool-down, not one per call.
    jump(COOLDOWN).await;
    verify_fresh(&verifier, &issuer).await.expect("stale keys");
    eventually("the next refresh attempt", || async {
        server.fetches() == 3
    })
    .await;
    verify_fresh(&verifier, &issuer).await.expect("stale keys");
}

#[tokio::test]
async fn after_the_ttl_a_refresh_replaces_the_key_set() {
    let server = KeyServer::with_keys(&[&keys().a]).await;
    let issuer = server.issuer();
    let verifier = verifier_for(&issuer);
    verify_fresh(&verifier, &issuer).await.expect("key a");
    server.serve_keys(&[&keys().b]);

    jump(TTL).await;
    // Served from the stale set while the refresh runs in the background.
    verify_fresh(&verifier, &issuer).await.expect("stale key a");
    eventually("the refreshed set drops key a", || async {
        verify_fresh(&verifier, &issuer).await == Err(ErrorKind::UnknownKey)
    })
    .await;
    verifier
        .verify(&TokenSpec::valid(&issuer).key(&keys().b).sign())
        .await
        .expect("key b");
    assert_eq!(server.fetches(), 2);
}

#[tokio::test]
async fn cache_control_max_age_shortens_the_ttl() {
    let server = KeyServer::with_keys(&[&keys().a]).await;
    server.set_header("cache-control", "public, max-age=60");
    let issuer = server.issuer();
    let verifier = verifier_for(&issuer);
    verify_fresh(&verifier, &issuer).await.expect("key a");
    server.serve_keys(&[&keys().b]);

    jump(Duration::from_secs(61)).await;
    verify_fresh(&verifier, &issuer).await.expect("stale key a");
    eventually("the refresh after max-age", || async {
        server.fetches() == 2
    })
    .await;
    eventually("the refreshed set is in use", || async {
        verifier
            .verify(&TokenSpec::valid(&issuer).key(&keys().b).sign())
            .await
            .is_ok()
    })
    .await;
    assert_eq!(server.fetches(), 2);
}

#[tokio::test]
async fn a_rate_limited_fetch_honours_retry_after() {
    let server = KeyServer::start(Serve::Status(429)).await;
    server.set_header("retry-after", "120");
    let issuer = server.issuer();
    let verifier = verifier_for(&issuer);
    let err = verifier
        .verify(&TokenSpec::valid(&issuer).sign())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeySetUnavailable);
    assert!(err.detail().contains("rate limited (429)"), "{err}");
    server.serve_keys(&[&keys().a]);

    jump(COOLDOWN).await;
    assert_eq!(
        verify_fresh(&verifier, &issuer).await,
        Err(ErrorKind::KeySetUnavailable)
    );
    assert_eq!(server.fetches(), 1, "Retry-After outlasts the cool-down");

    jump(Duration::from_secs(90)).await;
    verify_fresh(&verifier, &issuer)
        .await
        .expect("after Retry-After");
    assert_eq!(server.fetches(), 2);
}

#[tokio::test]
async fn without_any_key_set_calls_are_unavailable_and_the_server_is_not_hammered() {
    let server = KeyServer::start(Serve::Status(503)).await;
    let issuer = server.issuer();
    let verifier = verifier_for(&issuer);
    let err = verifier
        .verify(&TokenSpec::valid(&issuer).sign())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeySetUnavailable);
    assert!(err.detail().contains("503"), "{err}");
    for _ in 0..20 {
        assert_eq!(
            verify_fresh(&verifier, &issuer).await,
            Err(ErrorKind::KeySetUnavailable)
        );
    }
    assert_eq!(server.fetches(), 1);

    server.serve_keys(&[&keys().a]);
    jump(COOLDOWN).await;
    verify_fresh(&verifier, &issuer).await.expect("recovered");
    assert_eq!(server.fetches(), 2);
}

#[tokio::test]
async fn an_unreachable_key_server_is_unavailable() {
    let issuer = dead_issuer();
    let verifier = verifier_for(&issuer);
    let err = verifier
        .verify(&TokenSpec::valid(&issuer).sign())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeySetUnavailable);
    assert!(err.detail().contains(&issuer), "{err}");
}

#[tokio::test]
async fn documents_without_usable_keys_are_not_accepted() {
    let server = KeyServer::start(Serve::Body("<html>maintenance</html>")).await;
    let issuer = server.issuer();
    let verifier = verifier_for(&issuer);
    let err = verifier
        .verify(&TokenSpec::valid(&issuer).sign())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeySetUnavailable);
    assert!(err.detail().contains("invalid JWKS document"), "{err}");

    server.serve(Serve::Body(r#"{"keys":[]}"#));
    jump(COOLDOWN).await;
    let err = verifier
        .verify(&TokenSpec::valid(&issuer).sign())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeySetUnavailable);
    assert!(err.detail().contains("without a usable key"), "{err}");
    assert_eq!(server.fetches(), 2);
}

#[tokio::test]
async fn a_hanging_key_server_times_out() {
    let server = KeyServer::with_keys(&[&keys().a]).await;
    server.set_delay(Duration::from_secs(30));
    let issuer = server.issuer();
    let verifier = builder_for(&issuer)
        .fetch_timeout(Duration::from_millis(200))
        .build()
        .expect("verifier");
    let err = verifier
        .verify(&TokenSpec::valid(&issuer).sign())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeySetUnavailable);
    assert!(err.detail().contains("timed out after 200ms"), "{err}");
}

#[tokio::test]
async fn a_caller_that_gives_up_does_not_abort_the_shared_fetch() {
    let server = KeyServer::with_keys(&[&keys().a]).await;
    server.set_delay(Duration::from_millis(300));
    let issuer = server.issuer();
    let verifier = verifier_for(&issuer);
    let token = TokenSpec::valid(&issuer).sign();
    let gave_up = tokio::time::timeout(Duration::from_millis(20), verifier.verify(&token)).await;
    assert!(gave_up.is_err(), "the first call should still be waiting");
    // The fetch went on without it; the next call joins it instead of starting another.
    verify_fresh(&verifier, &issuer).await.expect("valid");
    verifier.verify(&token).await.expect("valid");
    assert_eq!(server.fetches(), 1);
}
