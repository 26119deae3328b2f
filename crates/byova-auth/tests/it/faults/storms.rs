//! 429 storms and 5xx at the token endpoint while the Integration and Service App tokens are
//! refreshed: one request per call (a refresh is never repeated blindly), a typed error each
//! time, the token file untouched, and the first good answer stored.

use std::time::Duration;

use byova_api::test_util::WebexStandIn;
use byova_api::test_util::matchers as m;
use byova_api::test_util::responses;
use byova_api::test_util::wiremock::Mock;
use byova_api::{ErrorKind as ApiErrorKind, RetryPolicy};
use byova_auth::storage::TokenStorage;

use super::{Sequence, Store, assert_api_error, hits, too_many};
use crate::support::webex::{
    APPLICATION_ID, INTEGRATION_ID, INTEGRATION_SECRET, SA_ID, SA_SECRET, fresh, org, other_org,
    refresh_form, token_body,
};

/// The failures of the storm and the error kind each gives.
fn storm() -> Vec<(
    byova_api::test_util::wiremock::ResponseTemplate,
    ApiErrorKind,
)> {
    let rate_limited = |after: Option<u64>| ApiErrorKind::RateLimited {
        retry_after: after.map(Duration::from_secs),
    };
    vec![
        (too_many(Some(30)), rate_limited(Some(30))),
        (too_many(None), rate_limited(None)),
        (too_many(Some(3_600)), rate_limited(Some(3_600))),
        (
            responses::error(500, "boom", "ROUTER_500"),
            ApiErrorKind::Server,
        ),
        (
            responses::error(502, "bad gateway", "ROUTER_502"),
            ApiErrorKind::Server,
        ),
        (
            responses::error(503, "unavailable", "ROUTER_503"),
            ApiErrorKind::Server,
        ),
        (
            responses::error(504, "timeout", "ROUTER_504"),
            ApiErrorKind::Server,
        ),
        (too_many(Some(1)), rate_limited(Some(1))),
    ]
}

#[tokio::test]
async fn integration_refresh_through_a_storm_keeps_the_stored_tokens() {
    let webex = WebexStandIn::start().await;
    let store = Store::seeded().await;
    let before = store.snapshot();
    let (answers, kinds): (Vec<_>, Vec<_>) = storm().into_iter().unzip();
    let mut answers = answers;
    answers.push(responses::json(token_body(
        "int-new",
        Some("int-refresh-2"),
    )));
    let (sequence, counter) = Sequence::new(answers);
    Mock::given(m::method("POST"))
        .and(m::path("/access_token"))
        .and(m::body_string(refresh_form(
            "int-refresh",
            INTEGRATION_ID,
            INTEGRATION_SECRET,
        )))
        .respond_with(sequence)
        .mount(webex.server())
        .await;
    let (integration, _) = store.managers(webex.client());

    for (n, kind) in kinds.iter().enumerate() {
        let error = integration
            .access_token()
            .await
            .expect_err("the token endpoint fails");
        assert_api_error(&error, *kind, &["int-refresh", "int-old"]);
        assert_eq!(
            hits(&counter),
            n + 1,
            "one request per refresh, never repeated"
        );
        assert_eq!(store.snapshot(), before, "a failed refresh changes nothing");
        assert_eq!(
            store.reopen().integration_tokens().await.expect("read"),
            Some(expired_like(&before, "int-old")),
        );
    }

    // The endpoint recovers: the refresh goes through and is stored, nothing else changes.
    assert_eq!(
        integration
            .access_token()
            .await
            .expect("refreshed")
            .expose(),
        "int-new"
    );
    assert_eq!(hits(&counter), kinds.len() + 1);
    let after = store.snapshot();
    assert_eq!(after["serviceApps"], before["serviceApps"]);
    let stored = store
        .reopen()
        .integration_tokens()
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.access_token.expose(), "int-new");
    assert_eq!(
        stored.refresh_token.as_ref().map(|t| t.expose().to_owned()),
        Some("int-refresh-2".to_owned())
    );
    // Cached now: no further request.
    assert_eq!(
        integration.access_token().await.expect("cached").expose(),
        "int-new"
    );
    assert_eq!(hits(&counter), kinds.len() + 1);
    webex.verify().await;
}

/// The Integration tokens stored in `snapshot` (they must still be the seeded ones).
fn expired_like(snapshot: &serde_json::Value, access: &str) -> byova_models::OAuthTokens {
    let tokens: byova_models::OAuthTokens =
        serde_json::from_value(snapshot["integration"].clone()).expect("integration tokens");
    assert_eq!(tokens.access_token.expose(), access);
    tokens
}

#[tokio::test]
async fn service_app_refresh_through_a_storm_keeps_every_org() {
    let webex = WebexStandIn::start().await;
    let store = Store::seeded().await;
    let before = store.snapshot();
    let (answers, kinds): (Vec<_>, Vec<_>) = storm().into_iter().unzip();
    let mut answers = answers;
    answers.push(responses::json(token_body("sa-new", None)));
    let (sequence, counter) = Sequence::new(answers);
    Mock::given(m::method("POST"))
        .and(m::path("/access_token"))
        .and(m::body_string(refresh_form("sa-refresh", SA_ID, SA_SECRET)))
        .respond_with(sequence)
        .mount(webex.server())
        .await;
    let (_, service_apps) = store.managers(webex.client());

    for (n, kind) in kinds.iter().enumerate() {
        let error = service_apps
            .access_token(&org())
            .await
            .expect_err("the token endpoint fails");
        assert_api_error(&error, *kind, &["sa-refresh", "sa-old"]);
        assert_eq!(hits(&counter), n + 1);
        assert_eq!(store.snapshot(), before);
        // Another org is never held up by it.
        assert_eq!(
            service_apps
                .access_token(&other_org())
                .await
                .expect("other org")
                .expose(),
            "other-access"
        );
    }

    assert_eq!(
        service_apps
            .access_token(&org())
            .await
            .expect("refreshed")
            .expose(),
        "sa-new"
    );
    let after = store.snapshot();
    assert_eq!(after["integration"], before["integration"]);
    assert_eq!(
        after["serviceApps"][other_org().to_string()],
        before["serviceApps"][other_org().to_string()]
    );
    let stored = store
        .reopen()
        .service_app_tokens(&org())
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.access_token.expose(), "sa-new");
    // The answer had no refresh token: the previous one is kept.
    assert_eq!(
        stored.refresh_token.as_ref().map(|t| t.expose().to_owned()),
        Some("sa-refresh".to_owned())
    );
    webex.verify().await;
}

/// Minting is retried (it is harmless to repeat), within the client's policy: a `Retry-After`
/// beyond the cap fails at once, 5xx are retried up to the attempt cap.
#[tokio::test]
async fn a_rejected_service_app_refresh_then_a_mint_storm_keeps_the_org() {
    let webex = WebexStandIn::start().await;
    let store = Store::seeded().await;
    // The Integration is valid, so minting needs no Integration refresh.
    store
        .storage
        .set_integration_tokens(&fresh("int-access", "int-refresh"))
        .await
        .expect("store");
    let before = store.snapshot();
    Mock::given(m::method("POST"))
        .and(m::path("/access_token"))
        .and(m::body_string(refresh_form("sa-refresh", SA_ID, SA_SECRET)))
        .respond_with(responses::error(400, "invalid_grant", "ROUTER_400"))
        .expect(3)
        .mount(webex.server())
        .await;
    let (mint, mints) = Sequence::new(vec![
        too_many(Some(60)),
        responses::error(503, "unavailable", "ROUTER_503"),
        responses::error(502, "bad gateway", "ROUTER_502"),
        responses::error(503, "unavailable", "ROUTER_503"),
        responses::json(token_body("sa-minted", Some("sa-minted-refresh"))),
    ]);
    Mock::given(m::method("POST"))
        .and(m::path(format!("/applications/{APPLICATION_ID}/token")))
        .and(m::bearer_token("int-access"))
        .respond_with(mint)
        .mount(webex.server())
        .await;
    let policy = RetryPolicy::default()
        .max_attempts(3)
        .backoff(Duration::from_millis(10), Duration::from_millis(10))
        .max_retry_after(Duration::from_secs(5));
    let (_, service_apps) = store.managers(
        webex
            .client_builder()
            .retry_policy(policy)
            .build()
            .expect("client"),
    );

    // The refresh token is rejected, the mint is rate limited beyond the cap: no retry.
    let error = service_apps.access_token(&org()).await.unwrap_err();
    assert_api_error(
        &error,
        ApiErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(60)),
        },
        &["sa-refresh", "int-access"],
    );
    assert_eq!(hits(&mints), 1);
    assert_eq!(store.snapshot(), before);
    // Rejected again, then three failing mint attempts.
    let error = service_apps.access_token(&org()).await.unwrap_err();
    assert_api_error(&error, ApiErrorKind::Server, &["sa-refresh", "int-access"]);
    assert_eq!(
        error
            .api_error()
            .and_then(|e| e.status())
            .map(|s| s.as_u16()),
        Some(503)
    );
    assert_eq!(hits(&mints), 4);
    assert_eq!(store.snapshot(), before);

    // Rejected once more, and the mint works: the org has new tokens.
    assert_eq!(
        service_apps
            .access_token(&org())
            .await
            .expect("minted")
            .expose(),
        "sa-minted"
    );
    assert_eq!(hits(&mints), 5);
    let stored = store
        .reopen()
        .service_app_tokens(&org())
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.access_token.expose(), "sa-minted");
    let after = store.snapshot();
    assert_eq!(after["integration"], before["integration"]);
    assert_eq!(
        after["serviceApps"][other_org().to_string()],
        before["serviceApps"][other_org().to_string()]
    );
    webex.verify().await;
}
