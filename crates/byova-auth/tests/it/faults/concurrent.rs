//! Many callers while a refresh fails: every one of them gets the typed error of the single
//! refresh, other orgs keep being served, concurrent writers to the same token file lose
//! nothing, and the next refresh succeeds.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use byova_api::ErrorKind as ApiErrorKind;
use byova_api::test_util::WebexStandIn;
use byova_api::test_util::matchers as m;
use byova_api::test_util::responses;
use byova_api::test_util::wiremock::Mock;
use byova_auth::storage::TokenStorage;
use byova_models::OrgId;

use super::{Store, assert_api_error, too_many};
use crate::support::callers::{all_started, counted};
use crate::support::webex::{
    Gated, INTEGRATION_ID, INTEGRATION_SECRET, SA_ID, SA_SECRET, fresh, org, other_org,
    refresh_form, token_body,
};

const CALLERS: usize = 300;
const WRITERS: usize = 20;

fn new_org(i: usize) -> OrgId {
    format!("00000000-0000-4000-8000-{i:012}")
        .parse()
        .expect("org id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_of_a_failing_refresh_all_get_its_error_and_no_token_is_lost() {
    let webex = WebexStandIn::start().await;
    let store = Store::seeded().await;
    let before = store.snapshot();
    let (integration_gate, release_integration) = Gated::new(too_many(Some(120)));
    let (service_app_gate, release_service_app) =
        Gated::new(responses::error(503, "unavailable", "ROUTER_503"));
    for (body, gate, recovered) in [
        (
            refresh_form("int-refresh", INTEGRATION_ID, INTEGRATION_SECRET),
            integration_gate,
            token_body("int-new", None),
        ),
        (
            refresh_form("sa-refresh", SA_ID, SA_SECRET),
            service_app_gate,
            token_body("sa-new", None),
        ),
    ] {
        Mock::given(m::method("POST"))
            .and(m::path("/access_token"))
            .and(m::body_string(body.clone()))
            .respond_with(gate)
            .up_to_n_times(1)
            .expect(1)
            .with_priority(1)
            .mount(webex.server())
            .await;
        Mock::given(m::method("POST"))
            .and(m::path("/access_token"))
            .and(m::body_string(body))
            .respond_with(responses::json(recovered))
            .expect(1)
            .with_priority(2)
            .mount(webex.server())
            .await;
    }
    let (integration, service_apps) = store.managers(webex.client());

    let started = Arc::new(AtomicUsize::new(0));
    let integration_callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let integration = integration.clone();
            let started = Arc::clone(&started);
            tokio::spawn(async move { counted(integration.access_token(), &started).await })
        })
        .collect();
    let service_app_callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let service_apps = service_apps.clone();
            let started = Arc::clone(&started);
            tokio::spawn(async move { counted(service_apps.access_token(&org()), &started).await })
        })
        .collect();
    all_started(&started, 2 * CALLERS).await;

    // While both refreshes hang: another org is served, and new orgs are written to the file.
    for _ in 0..50 {
        assert_eq!(
            service_apps
                .access_token(&other_org())
                .await
                .expect("other org")
                .expose(),
            "other-access"
        );
    }
    let writers: Vec<_> = (0..WRITERS)
        .map(|i| {
            let storage = store.storage.clone();
            tokio::spawn(async move {
                storage
                    .set_service_app_tokens(&new_org(i), &fresh(&format!("new-{i}"), "r"))
                    .await
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("join").expect("write");
    }

    release_integration.send(()).expect("release");
    release_service_app.send(()).expect("release");
    for caller in integration_callers {
        let error = caller.await.expect("join").expect_err("the refresh failed");
        assert_api_error(
            &error,
            ApiErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(120)),
            },
            &["int-refresh"],
        );
    }
    for caller in service_app_callers {
        let error = caller.await.expect("join").expect_err("the refresh failed");
        assert_api_error(&error, ApiErrorKind::Server, &["sa-refresh"]);
    }

    // Nothing was lost or changed by the failures; the writers' orgs are all there.
    let during = store.snapshot();
    assert_eq!(during["integration"], before["integration"]);
    for key in [org().to_string(), other_org().to_string()] {
        assert_eq!(
            during["serviceApps"][&key], before["serviceApps"][&key],
            "{key}"
        );
    }
    let reopened = store.reopen();
    let mut expected: Vec<OrgId> = (0..WRITERS).map(new_org).collect();
    expected.extend([org(), other_org()]);
    expected.sort();
    assert_eq!(reopened.registered_orgs().await.expect("orgs"), expected);

    // The next calls refresh for real.
    assert_eq!(
        integration.access_token().await.expect("refresh").expose(),
        "int-new"
    );
    assert_eq!(
        service_apps
            .access_token(&org())
            .await
            .expect("refresh")
            .expose(),
        "sa-new"
    );
    let after = store.snapshot();
    assert_eq!(
        after["serviceApps"].as_object().map(|o| o.len()),
        Some(WRITERS + 2)
    );
    for i in 0..WRITERS {
        let tokens = reopened
            .service_app_tokens(&new_org(i))
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(tokens.access_token.expose(), format!("new-{i}"));
    }
    webex.verify().await;
}
