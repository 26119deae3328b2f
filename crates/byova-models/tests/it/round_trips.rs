//! Serde round trips of every REST shape, with fixtures from the reference docs.

use byova_models::{
    DataSource, DataSourceCreate, DataSourceStatus, DataSourceUpdate, IdError, ItemList,
    OAuthTokens, Schema, ServiceAppEventKind, ServiceAppWebhookEvent, TokenResponse, Webhook,
    WebhookCreate, WebhookStatus, WebhookUpdate,
};
use serde_json::json;
use time::macros::datetime;

use crate::fixtures::{assert_round_trip, load};

#[test]
fn data_source_with_every_documented_field_and_unknown_ones() {
    let ds: DataSource = assert_round_trip(&load("data_source.json"));
    assert_eq!(ds.id, "85895e47-3096-4c47-aae8-f5a52f7b7870");
    assert_eq!(
        ds.schema_id.as_deref(),
        Some("5397013b-7920-4ffc-807c-e8a3e0a18f43")
    );
    assert_eq!(ds.status, Some(DataSourceStatus::Active));
    assert_eq!(ds.token_lifetime_minutes, Some(1440));
    assert_eq!(
        ds.token_expiry_time,
        Some(datetime!(2025-06-02 12:00:00.123 UTC))
    );
    assert_eq!(ds.created_at, Some(datetime!(2025-06-01 12:00:00.123 UTC)));
    assert_eq!(
        ds.jws_token.as_ref().map(|t| t.expose().split('.').count()),
        Some(3)
    );
    assert_eq!(ds.extra["region"], "us-east-1");
    assert_eq!(ds.extra["futureSettings"]["tags"], json!(["a", "b"]));
    assert_eq!(ds.extra.len(), 2);
}

#[test]
fn data_source_list_page_is_lenient_about_numbers_and_statuses() {
    let page: ItemList<DataSource> = serde_json::from_value(load("data_source_list.json")).unwrap();
    assert_eq!(page.items.len(), 2);
    let first = &page.items[0];
    assert_eq!(first.application_id.as_deref(), Some("app-1"));
    assert_eq!(first.org_id.as_deref(), Some("org-test-1"));
    assert_eq!(first.jws_token.as_ref().map(|t| t.expose()), Some("jws-1"));
    assert_eq!(first.token_lifetime_minutes, Some(60)); // sent as "60"
    assert_eq!(first.status, Some(DataSourceStatus::Disabled));
    assert_eq!(
        page.items[1].status,
        Some(DataSourceStatus::Other("suspended".into()))
    );
    // An unknown status is written back as it came.
    assert_eq!(
        serde_json::to_value(&page.items[1]).unwrap(),
        json!({"id": "ds-2", "status": "suspended"})
    );
}

#[test]
fn read_modify_write_keeps_unknown_fields() {
    let mut ds: DataSource = serde_json::from_value(load("data_source.json")).unwrap();
    ds.status = Some(DataSourceStatus::Disabled);
    let written = serde_json::to_value(&ds).unwrap();
    assert_eq!(written["status"], "disabled");
    assert_eq!(
        written["futureSettings"],
        json!({"retries": 3, "tags": ["a", "b"]})
    );
    assert_eq!(written["region"], "us-east-1");
}

#[test]
fn data_source_create_and_update_bodies() {
    let create = DataSourceCreate::new(
        "schema-1",
        "https://dap.example.com",
        "MyApp",
        "callAudioData",
        "nonce1",
        60,
    );
    assert_eq!(
        serde_json::to_string(&create).unwrap(),
        r#"{"audience":"MyApp","subject":"callAudioData","nonce":"nonce1","schemaId":"schema-1","url":"https://dap.example.com","tokenLifetimeMinutes":60}"#
    );
    assert_round_trip::<DataSourceCreate>(&serde_json::to_value(&create).unwrap());
    assert_eq!(
        serde_json::to_string(&DataSourceUpdate::default()).unwrap(),
        "{}"
    );
    let mut update = DataSourceUpdate::default();
    update.extra.insert("customFlag".into(), json!(true));
    update.nonce = Some("n".into());
    assert_eq!(
        serde_json::to_string(&update).unwrap(),
        r#"{"nonce":"n","customFlag":true}"#
    );
}

#[test]
fn renewal_body_carries_the_current_settings() {
    let ds: DataSource = serde_json::from_value(load("data_source.json")).unwrap();
    let body = serde_json::to_string(&ds.renewal("fresh-nonce", 720)).unwrap();
    assert_eq!(
        body,
        r#"{"audience":"BYOVAGateway","subject":"callAudioData","nonce":"fresh-nonce","schemaId":"5397013b-7920-4ffc-807c-e8a3e0a18f43","url":"https://va.example.com:443","tokenLifetimeMinutes":720,"status":"active"}"#
    );
    let minimal: DataSource = serde_json::from_value(json!({"id": "x"})).unwrap();
    assert_eq!(
        serde_json::to_string(&minimal.renewal("n", 1)).unwrap(),
        r#"{"nonce":"n","tokenLifetimeMinutes":1,"status":"active"}"#
    );
}

#[test]
fn schema() {
    let schema: Schema = assert_round_trip(&load("schema.json"));
    assert_eq!(schema.id, byova_models::BYOVA_SCHEMA_ID);
    assert_eq!(schema.protocol.as_deref(), Some("GRPC"));
    assert_eq!(schema.created_at, Some(datetime!(2024-03-05 10:11:12 UTC)));
    assert_eq!(schema.extra["schema"]["version"], "1.8");
}

#[test]
fn webhook_and_its_bodies() {
    let hook: Webhook = assert_round_trip(&load("webhook.json"));
    assert_eq!(hook.status, Some(WebhookStatus::Active));
    assert_eq!(hook.secret.as_ref().map(|s| s.expose()), Some("hmac-key"));
    assert_eq!(hook.created, Some(datetime!(2015-10-18 14:26:16 UTC)));
    assert_eq!(hook.extra["ownerType"], "app");

    let create = WebhookCreate::service_app("n", "https://t", "authorized").with_filter("orgId=x");
    assert_eq!(
        serde_json::to_string(&create).unwrap(),
        r#"{"name":"n","targetUrl":"https://t","resource":"serviceApp","event":"authorized","filter":"orgId=x"}"#
    );
    assert_round_trip::<WebhookCreate>(&serde_json::to_value(&create).unwrap());

    let mut update = WebhookUpdate::new("n", "https://t");
    update.status = Some(WebhookStatus::Active);
    assert_eq!(
        serde_json::to_string(&update).unwrap(),
        r#"{"name":"n","targetUrl":"https://t","status":"active"}"#
    );
}

#[test]
fn service_app_event_payloads() {
    let event: ServiceAppWebhookEvent = assert_round_trip(&load("service_app_event.json"));
    assert!(event.is_service_app());
    assert_eq!(event.kind(), ServiceAppEventKind::Authorized);
    assert_eq!(
        event.org_id().unwrap().as_str(),
        "63b02f90-0be4-4b43-9e78-cad425ac554c"
    );
    assert_eq!(
        event.raw_application_id(),
        Some("Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL3NhLWlk")
    );

    // orgId only in data, event only in name, plain UUID org id.
    let nested: ServiceAppWebhookEvent = serde_json::from_value(json!({
        "name": "Deauthorized",
        "data": {"orgId": "63B02F90-0BE4-4B43-9E78-CAD425AC554C"}
    }))
    .unwrap();
    assert!(nested.is_service_app());
    assert_eq!(nested.kind(), ServiceAppEventKind::Deauthorized);
    assert_eq!(
        nested.org_id().unwrap().as_str(),
        "63b02f90-0be4-4b43-9e78-cad425ac554c"
    );

    let other: ServiceAppWebhookEvent =
        serde_json::from_value(json!({"resource": "messages", "event": "created"})).unwrap();
    assert!(!other.is_service_app());
    assert_eq!(other.kind(), ServiceAppEventKind::Other("created".into()));
    assert_eq!(other.org_id(), Err(IdError::InvalidOrgId));
}

#[test]
fn token_response_into_persisted_tokens() {
    let response: TokenResponse = serde_json::from_value(load("token_response.json")).unwrap();
    let tokens = response.into_tokens(datetime!(2025-01-01 00:00 UTC));
    let stored = serde_json::to_value(&tokens).unwrap();
    assert_eq!(
        stored,
        json!({
            "access_token": "access123",
            "token_type": "Bearer",
            "expires_in": 1_209_599,
            "refresh_token": "refresh123",
            "refresh_token_expires_in": 7_775_999,
            "scope": "spark-admin:datasource_read spark-admin:datasource_write",
            "obtained_at": "2025-01-01T00:00:00Z"
        })
    );
    let back: OAuthTokens = serde_json::from_value(stored).unwrap();
    assert_eq!(back, tokens);
}

#[test]
fn token_response_defaults() {
    let response: TokenResponse =
        serde_json::from_str(r#"{"access_token":"a","expires_in":"120"}"#).unwrap();
    assert_eq!(response.expires_in, 120);
    assert_eq!(response.token_type, "Bearer");
    let response: TokenResponse = serde_json::from_str(r#"{"access_token":"a"}"#).unwrap();
    assert_eq!(response.expires_in, byova_models::DEFAULT_EXPIRES_IN_SECS);
    let err = serde_json::from_str::<TokenResponse>(r#"{"expires_in":1}"#).unwrap_err();
    assert!(
        err.to_string().starts_with("missing field `access_token`"),
        "{err}"
    );
    let err = serde_json::from_str::<TokenResponse>(r#"{"access_token":"a","expires_in":-5}"#)
        .unwrap_err();
    assert!(
        err.to_string().starts_with(
            "invalid value: integer `-5`, expected a non-negative integer or a string holding one"
        ),
        "{err}"
    );
}
