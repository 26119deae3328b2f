//! `byova keeper`: registers the data source, prints each renewal, stops on SIGTERM.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use byova::api::test_util::wiremock::{Mock, Request, Respond, ResponseTemplate};
use byova::api::test_util::{WebexStandIn, matchers as m, responses};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::support::{BYOVA_SCHEMA, DATASOURCE_URL, JWS, ORG, Store, byova_at};

fn at(offset: Duration) -> String {
    (OffsetDateTime::now_utc() + offset)
        .replace_nanosecond(0)
        .expect("valid")
        .format(&Rfc3339)
        .expect("format")
}

fn kept(expiry: &str) -> Value {
    json!({
        "id": "ds-kept",
        "schemaId": BYOVA_SCHEMA,
        "url": DATASOURCE_URL,
        "audience": "BYOVAGateway",
        "subject": "callAudioData",
        "status": "active",
        "jwsToken": JWS,
        "tokenLifetimeMinutes": 1440,
        "tokenExpiryTime": expiry,
    })
}

/// The body the keeper sends to register or renew: the settings, a nonce, active.
fn is_keeper_body(request: &Request, with_status: bool) -> bool {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
    let nonce_ok = body["nonce"].as_str().is_some_and(|n| n.len() == 36);
    let mut expected = json!({
        "audience": "BYOVAGateway",
        "subject": "callAudioData",
        "nonce": body["nonce"],
        "schemaId": BYOVA_SCHEMA,
        "url": DATASOURCE_URL,
        "tokenLifetimeMinutes": 1440,
    });
    if with_status {
        expected["status"] = json!("active");
    }
    nonce_ok && body == expected
}

#[tokio::test]
async fn registers_renews_and_stops_cleanly_on_sigterm() {
    let webex = WebexStandIn::start().await;
    let store = Store::new();
    store.register_org().await;
    // Registered with a JWS that is due for renewal a few seconds after the start.
    let first_expiry = at(Duration::from_secs(3600 + 5));
    let renewed_expiry = at(Duration::from_secs(86_400));
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/"))
        .and(m::bearer_token("sa-access"))
        .respond_with(responses::page(vec![], None))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(m::method("POST"))
        .and(m::path("/dataSources"))
        .and(m::bearer_token("sa-access"))
        .and(|request: &Request| is_keeper_body(request, false))
        .respond_with(responses::json(kept(&first_expiry)))
        .expect(1)
        .mount(webex.server())
        .await;
    // The renewal reads the data source, then puts the settings with a fresh nonce.
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/ds-kept"))
        .and(m::bearer_token("sa-access"))
        .respond_with(responses::json(kept(&first_expiry)))
        .expect(0..=1)
        .mount(webex.server())
        .await;
    Mock::given(m::method("PUT"))
        .and(m::path("/dataSources/ds-kept"))
        .and(m::bearer_token("sa-access"))
        .and(|request: &Request| is_keeper_body(request, true))
        .respond_with(responses::json(kept(&renewed_expiry)))
        .expect(1)
        .mount(webex.server())
        .await;

    let mut running = byova_at(&webex)
        .credentials()
        .store(&store)
        .args([
            "keeper",
            "--org",
            ORG,
            "--datasource-url",
            DATASOURCE_URL,
            // The keeper waits at least this long between renewals.
            "--retry-interval",
            "1",
        ])
        .spawn();
    let started = running.stdout_line().await.expect("a first line");
    assert!(
        started.starts_with(&format!(
            "Keeping data source ds-kept ({DATASOURCE_URL}): JWS expires "
        )),
        "{started}"
    );
    // Normally the renewal comes a few seconds later; on a very slow start it already
    // happened while starting, and the first line shows the renewed expiry.
    if !started.contains(&renewed_expiry) {
        assert!(started.contains(&first_expiry), "{started}");
        let renewed = running.stdout_line().await.expect("a renewal line");
        assert!(
            renewed.starts_with(&format!(
                "Renewed data source ds-kept (renewal 1): JWS expires {renewed_expiry}; next renewal "
            )),
            "{renewed}"
        );
    }

    running.terminate().await;
    let outcome = running.finish().await;
    assert_eq!(outcome.code, 0, "{outcome:?}");
    assert!(outcome.stdout.ends_with("Stopped.\n"), "{outcome:?}");
    assert!(
        !outcome.stdout.contains(JWS),
        "the JWS was printed: {outcome:?}"
    );
    webex.verify().await;
}

/// Answers the keeper's PUTs in turn: the renewal at start, a refused renewal, a good one.
struct Renewals {
    calls: AtomicUsize,
    at_start: String,
    later: String,
}

impl Respond for Renewals {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        match self.calls.fetch_add(1, Ordering::SeqCst) {
            0 => responses::json(kept(&self.at_start)),
            1 => responses::error(400, "Try again", "ROUTER_400"),
            _ => responses::json(kept(&self.later)),
        }
    }
}

#[tokio::test]
async fn json_lines_report_failed_and_successful_renewals() {
    let webex = WebexStandIn::start().await;
    let store = Store::new();
    store.register_org().await;
    // Registered within the renewal lead: the keeper renews at once while starting.
    let due = at(Duration::from_secs(3600 - 100));
    let at_start = at(Duration::from_secs(3600 + 2));
    let later = at(Duration::from_secs(86_400));
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/"))
        .respond_with(responses::page(vec![], None))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(m::method("POST"))
        .and(m::path("/dataSources"))
        .and(|request: &Request| is_keeper_body(request, false))
        .respond_with(responses::json(kept(&due)))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/ds-kept"))
        .and(m::bearer_token("sa-access"))
        .respond_with(responses::json(kept(&due)))
        .expect(2)
        .mount(webex.server())
        .await;
    Mock::given(m::method("PUT"))
        .and(m::path("/dataSources/ds-kept"))
        .and(m::bearer_token("sa-access"))
        .and(|request: &Request| is_keeper_body(request, true))
        .respond_with(Renewals {
            calls: AtomicUsize::new(0),
            at_start: at_start.clone(),
            later: later.clone(),
        })
        .expect(3)
        .mount(webex.server())
        .await;

    let mut running = byova_at(&webex)
        .credentials()
        .store(&store)
        .args([
            "keeper",
            "--json",
            "--org",
            ORG,
            "--datasource-url",
            DATASOURCE_URL,
            "--retry-interval",
            "1",
        ])
        .spawn();
    let mut next_event = async || -> Value {
        let line = running.stdout_line().await.expect("an event");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    };
    let started = next_event().await;
    assert_eq!(started["event"], "started");
    assert_eq!(started["dataSourceId"], "ds-kept");
    assert_eq!(started["url"], DATASOURCE_URL);
    assert_eq!(started["expiresAt"], at_start.as_str());
    assert_eq!(started["renewals"], 0);
    let failed = next_event().await;
    assert_eq!(failed["event"], "renewal_failed", "{failed}");
    assert_eq!(failed["renewals"], 0);
    let error = failed["error"].as_str().expect("error");
    assert!(
        error.contains("Try again [trackingId: ROUTER_400]"),
        "{error}"
    );
    let renewed = next_event().await;
    assert_eq!(renewed["event"], "renewed", "{renewed}");
    assert_eq!(renewed["expiresAt"], later.as_str());
    assert_eq!(renewed["renewals"], 1);

    running.terminate().await;
    let outcome = running.finish().await;
    assert_eq!(outcome.code, 0, "{outcome:?}");
    assert!(
        outcome.stdout.ends_with("{\"event\":\"stopped\"}\n"),
        "{outcome:?}"
    );
    assert!(
        !outcome.stdout.contains(JWS),
        "the JWS was printed: {outcome:?}"
    );
    webex.verify().await;
}

#[tokio::test]
async fn a_failing_start_exits_1_with_the_tracking_id() {
    let webex = WebexStandIn::start().await;
    let store = Store::new();
    store.register_org().await;
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/ds-missing"))
        .respond_with(responses::error(
            404,
            "Data source not found",
            "ROUTER_MISSING",
        ))
        .expect(1)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .credentials()
        .store(&store)
        .args([
            "keeper",
            "--org",
            ORG,
            "--datasource-url",
            DATASOURCE_URL,
            "--data-source-id",
            "ds-missing",
            "--json",
        ])
        .run()
        .await;
    outcome.assert_failure();
    let error = outcome.error_json();
    assert_eq!(error["error"]["kind"], "data_source", "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .expect("message")
            .contains("ds-missing does not exist"),
        "{error}"
    );
    assert_eq!(error["error"]["trackingId"], "ROUTER_MISSING", "{error}");
    webex.verify().await;
}

#[tokio::test]
async fn a_renewal_lead_longer_than_the_lifetime_is_a_usage_error() {
    let webex = WebexStandIn::start().await;
    let store = Store::new();
    let outcome = byova_at(&webex)
        .credentials()
        .store(&store)
        .args([
            "keeper",
            "--org",
            ORG,
            "--datasource-url",
            DATASOURCE_URL,
            "--token-lifetime-minutes",
            "60",
        ])
        .run()
        .await;
    outcome.assert_usage();
    assert!(
        outcome.stderr.contains("shorter than the token lifetime"),
        "{outcome:?}"
    );
    webex.verify().await;
}
