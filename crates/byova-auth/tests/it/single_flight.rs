//! Single flight: many callers on an expired token cause exactly one refresh per key.
//!
//! The store here has no cross-process lock, so only the in-process single flight stands between
//! the callers and a refresh storm.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use byova_api::test_util::matchers as m;
use byova_api::test_util::responses;
use byova_api::test_util::wiremock::{Mock, ResponseTemplate};
use byova_auth::ErrorKind;
use byova_auth::storage::TokenStorage;

use byova_api::test_util::WebexStandIn;

use crate::support::callers::{all_started, counted};
use crate::support::webex::{
    Gated, INTEGRATION_ID, INTEGRATION_SECRET, SA_ID, SA_SECRET, expired, org, other_org,
    refresh_form, token_body, unlocked_managers,
};

const CALLERS: usize = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_callers_one_integration_refresh() {
    let webex = WebexStandIn::start().await;
    let (storage, integration, _) = unlocked_managers(&webex);
    storage
        .set_integration_tokens(&expired("old", "int-refresh"))
        .await
        .expect("store");
    let (gated, release) = Gated::new(responses::json(token_body("new-access", None)));
    Mock::given(m::method("POST"))
        .and(m::path("/access_token"))
        .and(m::body_string(refresh_form(
            "int-refresh",
            INTEGRATION_ID,
            INTEGRATION_SECRET,
        )))
        .respond_with(gated)
        .expect(1)
        .mount(webex.server())
        .await;
    let started = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let integration = integration.clone();
            let started = started.clone();
            tokio::spawn(async move { counted(integration.access_token(), &started).await })
        })
        .collect();
    all_started(&started, CALLERS).await;
    release.send(()).expect("release");
    for caller in callers {
        assert_eq!(
            caller.await.expect("join").expect("token").expose(),
            "new-access"
        );
    }
    webex.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_refresh_reaches_every_waiter_and_the_next_call_retries() {
    let webex = WebexStandIn::start().await;
    let (storage, integration, _) = unlocked_managers(&webex);
    storage
        .set_integration_tokens(&expired("old", "int-refresh"))
        .await
        .expect("store");
    let (gated, release) = Gated::new(responses::error(500, "boom", "ROUTER_FAIL"));
    Mock::given(m::method("POST"))
        .and(m::path("/access_token"))
        .respond_with(gated)
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(webex.server())
        .await;
    Mock::given(m::method("POST"))
        .and(m::path("/access_token"))
        .and(m::body_string(refresh_form(
            "int-refresh",
            INTEGRATION_ID,
            INTEGRATION_SECRET,
        )))
        .respond_with(responses::json(token_body("second-try", None)))
        .expect(1)
        .with_priority(2)
        .mount(webex.server())
        .await;
    let started = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let integration = integration.clone();
            let started = started.clone();
            tokio::spawn(async move { counted(integration.access_token(), &started).await })
        })
        .collect();
    all_started(&started, CALLERS).await;
    release.send(()).expect("release");
    for caller in callers {
        let error = caller
            .await
            .expect("join")
            .expect_err("every waiter sees the failure");
        assert_eq!(error.kind(), &ErrorKind::Api);
        assert_eq!(
            error.api_error().and_then(|e| e.tracking_id()),
            Some("ROUTER_FAIL")
        );
    }
    // Not poisoned: the next call refreshes again and succeeds.
    assert_eq!(
        integration.access_token().await.expect("retry").expose(),
        "second-try"
    );
    webex.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_org_refreshes_once_independently() {
    let webex = WebexStandIn::start().await;
    let (storage, _, service_apps) = unlocked_managers(&webex);
    storage
        .set_service_app_tokens(&org(), &expired("a-old", "a-refresh"))
        .await
        .expect("store");
    storage
        .set_service_app_tokens(&other_org(), &expired("b-old", "b-refresh"))
        .await
        .expect("store");
    // Slow answers keep both flights open while the callers pile up; callers arriving after a
    // flight ends find the fresh token in the cache, so the counts are exact either way.
    for (refresh, access) in [("a-refresh", "a-new"), ("b-refresh", "b-new")] {
        Mock::given(m::method("POST"))
            .and(m::path("/access_token"))
            .and(m::no_header("authorization"))
            .and(m::body_string(refresh_form(refresh, SA_ID, SA_SECRET)))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(token_body(access, None))
                    .set_delay(Duration::from_millis(300)),
            )
            .expect(1)
            .mount(webex.server())
            .await;
    }
    let callers: Vec<_> = (0..CALLERS)
        .map(|i| {
            let service_apps = service_apps.clone();
            tokio::spawn(async move {
                let org = if i % 2 == 0 { org() } else { other_org() };
                (i, service_apps.access_token(&org).await)
            })
        })
        .collect();
    for caller in callers {
        let (i, token) = caller.await.expect("join");
        let expected = if i % 2 == 0 { "a-new" } else { "b-new" };
        assert_eq!(token.expect("token").expose(), expected);
    }
    webex.verify().await;
}
