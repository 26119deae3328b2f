//! `/dataSources`: exact methods, paths, headers and bodies.

use byova_api::StaticToken;
use byova_api::test_util::matchers::{
    bearer_token, body_string, exact_query, json_content, method, no_header, path, tracking_id,
    user_agent,
};
use byova_api::test_util::{WebexStandIn, responses};
use byova_models::{DataSourceCreate, DataSourceStatus, DataSourceUpdate};
use serde_json::{Value, json};
use wiremock::{Mock, Request, ResponseTemplate};

use crate::support::received;

fn webex_ds(id: &str) -> Value {
    json!({
        "id": id,
        "schemaId": "schema-1",
        "url": "https://dap.example.com",
        "audience": "MyApp",
        "subject": "callAudioData",
        "nonce": "old-nonce",
        "status": "active",
        "jwsToken": "jws",
        "tokenLifetimeMinutes": 60,
        "tokenExpiryTime": "2025-06-02T12:00:00.000Z",
        "orgId": "org",
        "applicationId": "app",
        "createdBy": "admin",
        "createdAt": "2025-06-01T12:00:00.000Z",
        "laterField": 1
    })
}

#[tokio::test]
async fn list_uses_the_trailing_slash_and_the_service_app_bearer() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/dataSources/"))
        .and(exact_query(&[]))
        .and(bearer_token("sa-token"))
        .and(tracking_id())
        .and(user_agent())
        .and(no_header("content-type"))
        .respond_with(responses::page(
            vec![json!({"id": "ds-1", "applicationId": "app-1", "orgId": "org-test-1", "jwsToken": "jws-1"})],
            None,
        ))
        .expect(1)
        .mount(webex.server())
        .await;

    let items = webex
        .client()
        .data_sources(StaticToken::new("sa-token"))
        .list()
        .await
        .unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].id, "ds-1");
    assert_eq!(items[0].application_id.as_deref(), Some("app-1"));
    assert_eq!(
        items[0].jws_token.as_ref().map(|t| t.expose()),
        Some("jws-1")
    );
    webex.verify().await;
}

#[tokio::test]
async fn get_create_update_delete() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/dataSources/ds-1"))
        .and(exact_query(&[]))
        .and(bearer_token("sa-token"))
        .and(tracking_id())
        .and(user_agent())
        .respond_with(responses::json(webex_ds("ds-1")))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(method("POST"))
        .and(path("/dataSources"))
        .and(exact_query(&[]))
        .and(bearer_token("sa-token"))
        .and(json_content())
        .and(tracking_id())
        .and(user_agent())
        .and(body_string(
            r#"{"audience":"MyApp","subject":"callAudioData","nonce":"nonce1","schemaId":"schema-1","url":"https://dap.example.com","tokenLifetimeMinutes":60}"#,
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(webex_ds("ds-new")))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(method("PUT"))
        .and(path("/dataSources/ds-1"))
        .and(bearer_token("sa-token"))
        .and(json_content())
        .and(tracking_id())
        .and(body_string(
            r#"{"status":"disabled","errorMessage":"maintenance"}"#,
        ))
        .respond_with(responses::json(
            json!({"id": "ds-1", "status": "disabled", "errorMessage": "maintenance"}),
        ))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(method("DELETE"))
        .and(path("/dataSources/ds-1"))
        .and(bearer_token("sa-token"))
        .and(tracking_id())
        .and(no_header("content-type"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(webex.server())
        .await;

    let ds = webex.client().data_sources(StaticToken::new("sa-token"));
    let got = ds.get("ds-1").await.unwrap();
    assert_eq!(got.id, "ds-1");
    assert_eq!(got.extra["laterField"], 1);

    let created = ds
        .create(&DataSourceCreate::new(
            "schema-1",
            "https://dap.example.com",
            "MyApp",
            "callAudioData",
            "nonce1",
            60,
        ))
        .await
        .unwrap();
    assert_eq!(created.id, "ds-new");

    let update = DataSourceUpdate {
        status: Some(DataSourceStatus::Disabled),
        error_message: Some("maintenance".into()),
        ..DataSourceUpdate::default()
    };
    let updated = ds.update("ds-1", &update).await.unwrap();
    assert_eq!(updated.status, Some(DataSourceStatus::Disabled));

    ds.delete("ds-1").await.unwrap();
    webex.verify().await;
}

/// A renewal PUT: the current settings, `status: active`, the lifetime, and a fresh UUID v4
/// nonce, in this key order.
fn is_renewal(request: &Request) -> bool {
    let Ok(body) = serde_json::from_slice::<serde_json::Map<String, Value>>(&request.body) else {
        return false;
    };
    let keys: Vec<&str> = body.keys().map(String::as_str).collect();
    let nonce = body["nonce"].as_str().unwrap_or_default();
    let nonce_is_v4 = uuid::Uuid::parse_str(nonce).is_ok_and(|u| u.get_version_num() == 4);
    keys == [
        "audience",
        "subject",
        "nonce",
        "schemaId",
        "url",
        "tokenLifetimeMinutes",
        "status",
    ] && body["audience"] == "MyApp"
        && body["subject"] == "callAudioData"
        && body["schemaId"] == "schema-1"
        && body["url"] == "https://dap.example.com"
        && body["tokenLifetimeMinutes"] == 1440
        && body["status"] == "active"
        && nonce_is_v4
}

#[tokio::test]
async fn renew_puts_the_settings_with_a_fresh_nonce() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/dataSources/ds-1"))
        .and(bearer_token("sa-token"))
        .respond_with(responses::json(webex_ds("ds-1")))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(method("PUT"))
        .and(path("/dataSources/ds-1"))
        .and(bearer_token("sa-token"))
        .and(json_content())
        .and(tracking_id())
        .and(is_renewal)
        .respond_with(responses::json(json!({
            "id": "ds-1", "jwsToken": "new-jws", "tokenExpiryTime": "2025-06-03T12:00:00Z"
        })))
        .expect(2)
        .mount(webex.server())
        .await;

    let ds = webex.client().data_sources(StaticToken::new("sa-token"));
    let renewed = ds.renew_by_id("ds-1", 1440).await.unwrap();
    assert_eq!(
        renewed.jws_token.as_ref().map(|t| t.expose()),
        Some("new-jws")
    );
    let current = serde_json::from_value(webex_ds("ds-1")).unwrap();
    ds.renew(&current, 1440).await.unwrap();

    // Two renewals, two different nonces.
    let nonces: Vec<String> = received(&webex)
        .await
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .map(|r| {
            r.body_json::<Value>().unwrap()["nonce"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(nonces.len(), 2);
    assert_ne!(nonces[0], nonces[1]);
    webex.verify().await;
}

#[tokio::test]
async fn invalid_lifetimes_and_ids_send_nothing() {
    let webex = WebexStandIn::start().await;
    let ds = webex.client().data_sources(StaticToken::new("sa-token"));
    let lifetime_error = |minutes: u32| {
        format!("invalid request: tokenLifetimeMinutes must be 1..=1440, got {minutes}")
    };
    let body = DataSourceCreate::new("s", "https://u", "a", "s", "n", 1441);
    let err = ds.create(&body).await.unwrap_err();
    assert!(err.is_invalid_request());
    assert_eq!(err.to_string(), lifetime_error(1441));
    let update = DataSourceUpdate {
        token_lifetime_minutes: Some(0),
        ..DataSourceUpdate::default()
    };
    let err = ds.update("ds-1", &update).await.unwrap_err();
    assert!(err.is_invalid_request());
    assert_eq!(err.to_string(), lifetime_error(0));
    let err = ds.renew_by_id("ds-1", 2000).await.unwrap_err();
    assert!(err.is_invalid_request());
    assert_eq!(err.to_string(), lifetime_error(2000));
    let err = ds.get("").await.unwrap_err();
    assert!(err.is_invalid_request());
    assert_eq!(
        err.to_string(),
        "invalid request: an id in the request path is empty"
    );
    assert!(webex.server().received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn ids_are_percent_encoded_into_one_segment() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/dataSources/..%2Fwebhooks%3Fmax%3D1"))
        .and(exact_query(&[]))
        .respond_with(responses::json(json!({"id": "weird"})))
        .expect(1)
        .mount(webex.server())
        .await;
    let ds = webex.client().data_sources(StaticToken::new("sa-token"));
    assert_eq!(ds.get("../webhooks?max=1").await.unwrap().id, "weird");
    webex.verify().await;
}
