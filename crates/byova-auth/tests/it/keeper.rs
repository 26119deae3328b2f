//! The data-source keeper: adopt / create / update, renewal timing (paused clock), retries, stop.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use byova_api::RetryPolicy;
use byova_api::test_util::matchers as m;
use byova_api::test_util::responses;
use byova_api::test_util::wiremock::{Match, Mock, Request};
use byova_auth::keeper::{DataSourceKeeper, KeeperConfig};
use byova_auth::storage::TokenStorage;
use byova_auth::{ErrorKind, RefreshSettings};
use byova_models::BYOVA_SCHEMA_ID;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::time::Instant;

use crate::support::webex::{Env, fresh, org};

const URL: &str = "https://media.example.com:443";
const HOUR: Duration = Duration::from_secs(3600);

async fn env() -> Env {
    let env = Env::start_with(RefreshSettings::default(), RetryPolicy::disabled()).await;
    env.storage
        .set_service_app_tokens(&org(), &fresh("sa-access", "sa-refresh"))
        .await
        .expect("store");
    env
}

/// Starts a keeper for [`org`] with `config`.
async fn start_keeper(env: &Env, config: KeeperConfig) -> byova_auth::Result<DataSourceKeeper> {
    DataSourceKeeper::start(env.service_apps.org_client(&org()), config).await
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).expect("format")
}

fn jws(claims: &Value) -> String {
    format!(
        "eyJhbGciOiJSUzI1NiJ9.{}.c2lnbmF0dXJl",
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// A data source as Webex returns it.
fn data_source(id: &str, token: &str, expiry: Option<OffsetDateTime>) -> Value {
    let mut ds = json!({
        "id": id,
        "schemaId": BYOVA_SCHEMA_ID,
        "url": URL,
        "audience": "BYOVAGateway",
        "subject": "callAudioData",
        "status": "active",
        "jwsToken": token,
        "tokenLifetimeMinutes": 1440,
    });
    if let Some(expiry) = expiry {
        ds["tokenExpiryTime"] = json!(rfc3339(expiry));
    }
    ds
}

/// Matches the keeper's create/renew bodies: exactly `expected` plus a UUID `nonce`, recorded.
#[derive(Clone)]
struct WithNonce {
    expected: Value,
    nonces: Arc<Mutex<Vec<String>>>,
}

impl WithNonce {
    fn renewal() -> Self {
        Self::new(json!({
            "audience": "BYOVAGateway",
            "subject": "callAudioData",
            "schemaId": BYOVA_SCHEMA_ID,
            "url": URL,
            "tokenLifetimeMinutes": 1440,
            "status": "active",
        }))
    }

    fn new(expected: Value) -> Self {
        Self {
            expected,
            nonces: Arc::default(),
        }
    }

    fn nonces(&self) -> Vec<String> {
        self.nonces.lock().expect("nonces").clone()
    }
}

impl Match for WithNonce {
    fn matches(&self, request: &Request) -> bool {
        let Ok(mut body) = serde_json::from_slice::<Value>(&request.body) else {
            return false;
        };
        let Some(nonce) = body.as_object_mut().and_then(|o| o.remove("nonce")) else {
            return false;
        };
        let Some(nonce) = nonce.as_str().filter(|n| uuid::Uuid::parse_str(n).is_ok()) else {
            return false;
        };
        if body != self.expected {
            return false;
        }
        self.nonces.lock().expect("nonces").push(nonce.to_owned());
        true
    }
}

fn get(id: &str) -> byova_api::test_util::wiremock::MockBuilder {
    Mock::given(m::method("GET"))
        .and(m::path(format!("/dataSources/{id}")))
        .and(m::bearer_token("sa-access"))
}

fn put(id: &str, body: &WithNonce) -> byova_api::test_util::wiremock::MockBuilder {
    Mock::given(m::method("PUT"))
        .and(m::path(format!("/dataSources/{id}")))
        .and(m::bearer_token("sa-access"))
        .and(m::json_content())
        .and(body.clone())
}

fn assert_near(actual: Duration, expected: Duration) {
    // The keeper's wall clock is anchored a few real milliseconds after the test computed the
    // expiry; paused Tokio time adds nothing.
    let diff = expected.abs_diff(actual);
    assert!(
        diff < Duration::from_secs(5),
        "expected about {expected:?}, got {actual:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn renews_lead_minutes_before_expiry_and_retries_after_a_503() {
    let env = env().await;
    let now = OffsetDateTime::now_utc();
    let first_expiry = now + 24 * HOUR;
    let second_expiry = now + 48 * HOUR;
    let third_expiry = now + 72 * HOUR;
    // The stored data source still carries the first JWS (every pre-renewal check reads it).
    get("ds-1")
        .respond_with(responses::json(data_source(
            "ds-1",
            "jws-1",
            Some(first_expiry),
        )))
        .expect(4)
        .mount(env.webex.server())
        .await;
    let renewal = WithNonce::renewal();
    put("ds-1", &renewal)
        .respond_with(responses::json(data_source(
            "ds-1",
            "jws-2",
            Some(second_expiry),
        )))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(env.webex.server())
        .await;
    put("ds-1", &renewal)
        .respond_with(responses::error(503, "try later", "ROUTER_503"))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(2)
        .mount(env.webex.server())
        .await;
    put("ds-1", &renewal)
        .respond_with(responses::json(data_source(
            "ds-1",
            "jws-3",
            Some(third_expiry),
        )))
        .expect(1)
        .with_priority(3)
        .mount(env.webex.server())
        .await;

    let config = KeeperConfig::new(URL).with_data_source_id("ds-1");
    let start = Instant::now();
    let keeper = start_keeper(&env, config).await.expect("start");
    let mut states = keeper.subscribe();
    let initial = keeper.state();
    assert_eq!(initial.jws.expose(), "jws-1");
    assert_eq!(initial.expires_at, Some(first_expiry));
    assert_eq!(initial.renewals, 0);

    // First renewal: 23 h after the start (24 h expiry, 60 min lead).
    states.changed().await.expect("renewed");
    assert_near(start.elapsed(), 23 * HOUR);
    let state = states.borrow_and_update().clone();
    assert_eq!(state.jws.expose(), "jws-2");
    assert_eq!(state.renewals, 1);
    assert!(state.last_error.is_none());

    // Second renewal at 47 h: Webex answers 503 ...
    states.changed().await.expect("failure published");
    assert_near(start.elapsed(), 47 * HOUR);
    let state = states.borrow_and_update().clone();
    assert_eq!(
        state.jws.expose(),
        "jws-2",
        "the current JWS stays published"
    );
    let error = state.last_error.expect("failure recorded");
    assert_eq!(
        error
            .api_error()
            .and_then(byova_api::Error::status)
            .map(|s| s.as_u16()),
        Some(503)
    );

    // ... and the keeper retries retry_interval (60 s) later.
    states.changed().await.expect("retried");
    assert_near(start.elapsed(), 47 * HOUR + Duration::from_secs(60));
    let state = states.borrow_and_update().clone();
    assert_eq!(state.jws.expose(), "jws-3");
    assert_eq!(state.renewals, 2);
    assert!(state.last_error.is_none());

    let nonces = renewal.nonces();
    assert_eq!(nonces.len(), 3);
    assert!(
        nonces[0] != nonces[1] && nonces[1] != nonces[2] && nonces[0] != nonces[2],
        "fresh nonces"
    );
    keeper.stop().await.expect("stop");
    env.webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn adopts_by_url_schema_audience_and_subject_across_pages() {
    let env = env().await;
    let expiry = OffsetDateTime::now_utc() + 20 * HOUR;
    let claims_only = {
        // Audience and subject only inside the JWS.
        let mut ds = data_source("ds-b", "", Some(expiry));
        let object = ds.as_object_mut().expect("object");
        object.remove("audience");
        object.remove("subject");
        object.insert(
            "jwsToken".into(),
            json!(jws(&json!({"aud": "BYOVAGateway", "sub": "callAudioData", "exp": expiry.unix_timestamp()}))),
        );
        ds
    };
    let mut other_url = data_source("ds-a", "jws-a", Some(expiry));
    other_url["url"] = json!("https://elsewhere.example.com");
    let next = env.webex.url("/dataSources/?cursor=2");
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/"))
        .and(m::exact_query(&[]))
        .and(m::bearer_token("sa-access"))
        .respond_with(responses::page(vec![other_url], Some(&next)))
        .expect(1)
        .mount(env.webex.server())
        .await;
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/"))
        .and(m::exact_query(&[("cursor", "2")]))
        .respond_with(responses::page(vec![claims_only], None))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let keeper = start_keeper(&env, KeeperConfig::new(URL))
        .await
        .expect("start");
    let state = keeper.state();
    assert_eq!(state.data_source.id, "ds-b");
    assert_eq!(
        state.next_renewal_at,
        state.expires_at.expect("expiry") - HOUR
    );
    keeper.stop().await.expect("stop");
    env.webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn several_candidates_are_an_error_asking_for_the_id() {
    let env = env().await;
    let expiry = OffsetDateTime::now_utc() + 20 * HOUR;
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/"))
        .respond_with(responses::page(
            vec![
                data_source("ds-1", "j1", Some(expiry)),
                data_source("ds-2", "j2", Some(expiry)),
            ],
            None,
        ))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let error = start_keeper(&env, KeeperConfig::new(URL))
        .await
        .expect_err("ambiguous");
    assert_eq!(error.kind(), &ErrorKind::DataSource);
    assert!(
        error.to_string().contains("set the data source id"),
        "{error}"
    );
    env.webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn registers_the_data_source_when_none_matches() {
    let env = env().await;
    let expiry = OffsetDateTime::now_utc() + 24 * HOUR;
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/"))
        .respond_with(responses::page(vec![], None))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let create = WithNonce::new(json!({
        "audience": "BYOVAGateway",
        "subject": "callAudioData",
        "schemaId": BYOVA_SCHEMA_ID,
        "url": URL,
        "tokenLifetimeMinutes": 1440,
    }));
    Mock::given(m::method("POST"))
        .and(m::path("/dataSources"))
        .and(m::bearer_token("sa-access"))
        .and(create.clone())
        .respond_with(responses::json(data_source(
            "ds-new",
            "jws-new",
            Some(expiry),
        )))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let keeper = start_keeper(&env, KeeperConfig::new(URL))
        .await
        .expect("start");
    assert_eq!(keeper.state().data_source.id, "ds-new");
    assert_eq!(keeper.jws().expose(), "jws-new");
    assert_eq!(create.nonces().len(), 1);
    keeper.stop().await.expect("stop");
    env.webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn a_disabled_or_different_data_source_is_updated_at_start() {
    let env = env().await;
    let expiry = OffsetDateTime::now_utc() + 24 * HOUR;
    let mut disabled = data_source("ds-1", "old", Some(expiry));
    disabled["status"] = json!("disabled");
    disabled["audience"] = json!("SomethingElse");
    get("ds-1")
        .respond_with(responses::json(disabled))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let renewal = WithNonce::renewal();
    put("ds-1", &renewal)
        .respond_with(responses::json(data_source(
            "ds-1",
            "jws-active",
            Some(expiry),
        )))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let keeper = start_keeper(&env, KeeperConfig::new(URL).with_data_source_id("ds-1"))
        .await
        .expect("start");
    assert_eq!(keeper.jws().expose(), "jws-active");
    keeper.stop().await.expect("stop");
    env.webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn the_jws_exp_is_used_without_token_expiry_time_and_unknown_expiry_renews_at_once() {
    let env = env().await;
    let exp = OffsetDateTime::now_utc() + 2 * HOUR;
    let token = jws(&json!({"exp": exp.unix_timestamp()}));
    get("ds-1")
        .respond_with(responses::json(data_source("ds-1", &token, None)))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let keeper = start_keeper(&env, KeeperConfig::new(URL).with_data_source_id("ds-1"))
        .await
        .expect("start");
    let state = keeper.state();
    assert_eq!(
        state.expires_at.map(OffsetDateTime::unix_timestamp),
        Some(exp.unix_timestamp())
    );
    assert_eq!(
        state.next_renewal_at.unix_timestamp(),
        exp.unix_timestamp() - 3600
    );
    keeper.stop().await.expect("stop");
    env.webex.verify().await;

    // No expiry at all: renewed during start.
    let env = self::env().await;
    get("ds-2")
        .respond_with(responses::json(data_source("ds-2", "opaque", None)))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let renewal = WithNonce::renewal();
    put("ds-2", &renewal)
        .respond_with(responses::json(data_source("ds-2", "opaque-2", None)))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let keeper = start_keeper(&env, KeeperConfig::new(URL).with_data_source_id("ds-2"))
        .await
        .expect("start");
    let state = keeper.state();
    assert_eq!(state.jws.expose(), "opaque-2");
    assert_eq!(state.expires_at, None);
    // Without an expiry, the next renewal is lifetime − lead after this one (23 h).
    let until = state.next_renewal_at - OffsetDateTime::now_utc();
    assert!(
        (until - time::Duration::hours(23)).abs() < time::Duration::seconds(5),
        "{until}"
    );
    keeper.stop().await.expect("stop");
    env.webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn a_jws_renewed_by_another_replica_is_adopted_without_a_put() {
    let env = env().await;
    let now = OffsetDateTime::now_utc();
    get("ds-1")
        .respond_with(responses::json(data_source(
            "ds-1",
            "jws-1",
            Some(now + 24 * HOUR),
        )))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(env.webex.server())
        .await;
    // At renewal time, the data source already carries a newer JWS.
    get("ds-1")
        .respond_with(responses::json(data_source(
            "ds-1",
            "jws-other",
            Some(now + 46 * HOUR),
        )))
        .expect(1)
        .with_priority(2)
        .mount(env.webex.server())
        .await;
    let keeper = start_keeper(&env, KeeperConfig::new(URL).with_data_source_id("ds-1"))
        .await
        .expect("start");
    let mut states = keeper.subscribe();
    states.changed().await.expect("adopted");
    assert_eq!(states.borrow().jws.expose(), "jws-other");
    keeper.stop().await.expect("stop");
    env.webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn stop_ends_the_task_and_nothing_is_sent_afterwards() {
    let env = env().await;
    get("ds-1")
        .respond_with(responses::json(data_source(
            "ds-1",
            "jws-1",
            Some(OffsetDateTime::now_utc() + 24 * HOUR),
        )))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let keeper = start_keeper(&env, KeeperConfig::new(URL).with_data_source_id("ds-1"))
        .await
        .expect("start");
    let mut states = keeper.subscribe();
    keeper.stop().await.expect("stop");
    // The sender is gone with the task ...
    assert!(states.changed().await.is_err());
    // ... and days later nothing was renewed (the stand-in fails on any request).
    tokio::time::advance(72 * HOUR).await;
    env.webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn a_missing_configured_id_and_bad_settings_are_typed_errors() {
    let env = env().await;
    get("ds-gone")
        .respond_with(responses::error(404, "not found", "ROUTER_404"))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let error = start_keeper(&env, KeeperConfig::new(URL).with_data_source_id("ds-gone"))
        .await
        .expect_err("missing");
    assert_eq!(error.kind(), &ErrorKind::DataSource);
    assert!(
        error.to_string().contains("ds-gone does not exist"),
        "{error}"
    );

    let error = start_keeper(
        &env,
        KeeperConfig::new(URL).with_renewal_lead(Duration::from_secs(2 * 86_400)),
    )
    .await
    .expect_err("lead too long");
    assert_eq!(error.kind(), &ErrorKind::InvalidInput);
    env.webex.verify().await;
}
