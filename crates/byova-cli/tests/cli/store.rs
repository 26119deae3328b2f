//! Without `--token`, bearers come from the token store: the org's Service App token for data
//! sources and schemas, the Integration's token for webhooks.

use byova::api::test_util::wiremock::Mock;
use byova::api::test_util::{WebexStandIn, matchers as m, responses};
use byova::auth::storage::TokenStorage as _;
use serde_json::json;

use crate::support::{ORG, Store, byova_at, data_source};

#[tokio::test]
async fn data_sources_use_the_service_app_token_of_the_org() {
    let webex = WebexStandIn::start().await;
    let store = Store::new();
    store.register_org().await;
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/"))
        .and(m::bearer_token("sa-access"))
        .respond_with(responses::page(vec![data_source("ds-1")], None))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/schemas"))
        .and(m::bearer_token("sa-access"))
        .respond_with(responses::page(vec![json!({"id": "schema-1"})], None))
        .expect(1)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .credentials()
        .store(&store)
        .env("WEBEX_ORG_ID", ORG)
        .args(["--json", "datasources", "list"])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(outcome.json()[0]["id"], "ds-1");
    let outcome = byova_at(&webex)
        .credentials()
        .args([
            "schemas",
            "list",
            "--org",
            ORG,
            "--token-store",
            &store.spec(),
            "--json",
        ])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(outcome.json(), json!([{"id": "schema-1"}]));
    webex.verify().await;
}

#[tokio::test]
async fn an_unregistered_org_exits_1_without_a_request() {
    let webex = WebexStandIn::start().await;
    let store = Store::new();
    let outcome = byova_at(&webex)
        .credentials()
        .store(&store)
        .args(["datasources", "list", "--org", ORG])
        .run()
        .await;
    outcome.assert_failure();
    assert!(
        outcome
            .stderr
            .starts_with(&format!("error: org {ORG} has no Service App registration")),
        "{outcome:?}"
    );
    let outcome = byova_at(&webex)
        .credentials()
        .store(&store)
        .args(["datasources", "list", "--org", ORG, "--json"])
        .run()
        .await;
    outcome.assert_failure();
    assert_eq!(outcome.error_json()["error"]["kind"], "org_not_registered");
    webex.verify().await;
}

#[tokio::test]
async fn webhooks_use_the_integration_token() {
    let webex = WebexStandIn::start().await;
    let store = Store::new();
    store.sign_in().await;
    Mock::given(m::method("GET"))
        .and(m::path("/webhooks/hook-1"))
        .and(m::bearer_token("int-access"))
        .respond_with(responses::json(json!({"id": "hook-1"})))
        .expect(1)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .credentials()
        .store(&store)
        .args(["webhooks", "get", "hook-1"])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(outcome.stdout, "id: hook-1\n");
    webex.verify().await;
}

#[tokio::test]
async fn an_expired_integration_token_is_refreshed_and_stored() {
    let webex = WebexStandIn::start().await;
    let store = Store::new();
    let expired = byova::models::OAuthTokens::new(
        "int-old",
        3600,
        time::OffsetDateTime::now_utc() - std::time::Duration::from_secs(86_400),
    )
    .with_refresh_token("int-refresh", Some(7_776_000));
    store
        .storage
        .set_integration_tokens(&expired)
        .await
        .expect("store");
    Mock::given(m::method("POST"))
        .and(m::path("/access_token"))
        .and(m::form_content())
        .and(m::body_string(
            "grant_type=refresh_token&refresh_token=int-refresh&client_id=int-client&client_secret=int-secret-value",
        ))
        .respond_with(responses::json(json!({
            "access_token": "int-new",
            "expires_in": 1_209_600,
            "refresh_token": "int-refresh-2",
            "refresh_token_expires_in": 7_776_000,
        })))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(m::method("GET"))
        .and(m::path("/webhooks"))
        .and(m::bearer_token("int-new"))
        .respond_with(responses::page(vec![], None))
        .expect(1)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .credentials()
        .store(&store)
        .args(["webhooks", "list"])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(outcome.stdout, "No webhooks.\n");
    let stored = store
        .storage
        .integration_tokens()
        .await
        .expect("read")
        .expect("tokens");
    assert_eq!(stored.access_token.expose(), "int-new");
    webex.verify().await;
}

#[tokio::test]
async fn without_a_login_webhooks_say_how_to_sign_in() {
    let webex = WebexStandIn::start().await;
    let store = Store::new();
    let outcome = byova_at(&webex)
        .credentials()
        .store(&store)
        .args(["webhooks", "list", "--json"])
        .run()
        .await;
    outcome.assert_failure();
    let error = outcome.error_json();
    assert_eq!(error["error"]["kind"], "not_authorized", "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .expect("message")
            .contains("byova auth login"),
        "{error}"
    );
    webex.verify().await;
}

#[tokio::test]
async fn ensure_uses_the_integration_token_and_reports_json() {
    let webex = WebexStandIn::start().await;
    let store = Store::new();
    store.sign_in().await;
    let target = "https://hooks.example.com/webex";
    Mock::given(m::method("GET"))
        .and(m::path("/webhooks"))
        .and(m::exact_query(&[("max", "100")]))
        .and(m::bearer_token("int-access"))
        .respond_with(responses::page(
            vec![json!({
                "id": "hook-a",
                "name": "BYOVA Service App authorized",
                "targetUrl": target,
                "resource": "serviceApp",
                "event": "authorized",
                "status": "inactive",
            })],
            None,
        ))
        .expect(1)
        .mount(webex.server())
        .await;
    // An inactive hook without the secret is repaired in place.
    Mock::given(m::method("PUT"))
        .and(m::path("/webhooks/hook-a"))
        .and(m::bearer_token("int-access"))
        .and(m::body_json(json!({
            "name": "BYOVA Service App authorized",
            "targetUrl": target,
            "secret": "hmac-secret-value",
            "status": "active",
        })))
        .respond_with(responses::json(
            json!({"id": "hook-a", "status": "active", "secret": "hmac-secret-value"}),
        ))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(m::method("POST"))
        .and(m::path("/webhooks"))
        .and(m::bearer_token("int-access"))
        .and(m::body_json(json!({
            "name": "BYOVA Service App deauthorized",
            "targetUrl": target,
            "resource": "serviceApp",
            "event": "deauthorized",
            "secret": "hmac-secret-value",
        })))
        .respond_with(responses::json(json!({"id": "hook-d", "status": "active"})))
        .expect(1)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .credentials()
        .store(&store)
        .env("WEBEX_WEBHOOK_TARGET_URL", target)
        .env("WEBEX_WEBHOOK_SECRET", "hmac-secret-value")
        .args(["webhooks", "ensure", "--json"])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(
        outcome.json(),
        json!([
            {"event": "authorized", "change": "repaired", "webhook": {"id": "hook-a", "status": "active", "secret": "[redacted]"}},
            {"event": "deauthorized", "change": "created", "webhook": {"id": "hook-d", "status": "active"}},
        ])
    );
    webex.verify().await;
}
