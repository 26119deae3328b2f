//! Secrets never appear in `Debug` output (but do in serde output, for storage).

use byova_models::{
    DataSource, IntegrationCredentials, OAuthTokens, ServiceAppCredentials, TokenResponse, Webhook,
    WebhookCreate, WebhookUpdate,
};
use time::macros::datetime;

use crate::fixtures::load;

fn assert_hidden(debug: &str, secret: &str) {
    assert!(!debug.contains(secret), "{secret:?} leaked in {debug}");
    assert!(
        debug.contains("[redacted]"),
        "no redaction marker in {debug}"
    );
}

#[test]
fn credentials() {
    let creds = IntegrationCredentials::new("cid", "integration-secret-value");
    assert_hidden(&format!("{creds:?}"), "integration-secret-value");
    assert_hidden(&format!("{creds:#?}"), "integration-secret-value");
    assert!(
        serde_json::to_string(&creds)
            .unwrap()
            .contains("integration-secret-value")
    );
    let sa = ServiceAppCredentials::new("sid", "sa-secret-value");
    assert_hidden(&format!("{sa:?}"), "sa-secret-value");
}

#[test]
fn tokens() {
    let tokens = OAuthTokens::new("access-value-123", 60, datetime!(2025-01-01 00:00 UTC))
        .with_refresh_token("refresh-value-456", Some(600));
    let debug = format!("{tokens:?}");
    assert_hidden(&debug, "access-value-123");
    assert_hidden(&debug, "refresh-value-456");
    let stored = serde_json::to_string(&tokens).unwrap();
    assert!(stored.contains("access-value-123") && stored.contains("refresh-value-456"));
    let response: TokenResponse = serde_json::from_value(load("token_response.json")).unwrap();
    assert_hidden(&format!("{response:?}"), "refresh123");
}

#[test]
fn jws_and_webhook_secrets() {
    let ds: DataSource = serde_json::from_value(load("data_source.json")).unwrap();
    assert_hidden(&format!("{ds:?}"), "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0");
    let hook: Webhook = serde_json::from_value(load("webhook.json")).unwrap();
    assert_hidden(&format!("{hook:?}"), "hmac-key");
    let create = WebhookCreate::new("n", "t", "r", "e").with_secret("create-secret");
    assert_hidden(&format!("{create:?}"), "create-secret");
    let mut update = WebhookUpdate::new("n", "t");
    update.secret = Some("update-secret".into());
    assert_hidden(&format!("{update:?}"), "update-secret");
}
