//! `POST /access_token`: form bodies, no bearer.

use byova_api::test_util::matchers::{
    body_string, exact_query, form_content, method, no_header, path, tracking_id, user_agent,
};
use byova_api::test_util::{WebexStandIn, responses};
use byova_models::{IntegrationCredentials, Secret};
use serde_json::json;
use wiremock::Mock;

#[tokio::test]
async fn exchange_code() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("POST"))
        .and(path("/access_token"))
        .and(exact_query(&[]))
        .and(form_content())
        .and(no_header("authorization"))
        .and(tracking_id())
        .and(user_agent())
        .and(body_string(
            "grant_type=authorization_code&code=auth-code&client_id=test-integration-id&client_secret=test-integration-secret&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback",
        ))
        .respond_with(responses::json(json!({
            "access_token": "access123", "expires_in": 1209599,
            "refresh_token": "refresh123", "refresh_token_expires_in": 7775999
        })))
        .expect(1)
        .mount(webex.server())
        .await;
    let creds = IntegrationCredentials::new("test-integration-id", "test-integration-secret");
    let tokens = webex
        .client()
        .oauth()
        .exchange_code(&creds, "auth-code")
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "access123");
    assert_eq!(
        tokens.refresh_token.as_ref().map(|t| t.expose()),
        Some("refresh123")
    );
    webex.verify().await;
}

#[tokio::test]
async fn refresh_at_a_custom_token_url() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/access_token"))
        .and(form_content())
        .and(no_header("authorization"))
        .and(body_string(
            "grant_type=refresh_token&refresh_token=refresh%2B123&client_id=cid&client_secret=c+s",
        ))
        .respond_with(responses::json(
            json!({"access_token": "new-access", "expires_in": "3600"}),
        ))
        .expect(1)
        .mount(webex.server())
        .await;
    let tokens = webex
        .client()
        .oauth()
        .with_token_url(webex.url("/v1/access_token"))
        .refresh("cid", &Secret::new("c s"), &Secret::new("refresh+123"))
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "new-access");
    assert_eq!(tokens.expires_in, 3600);
    assert_eq!(tokens.refresh_token, None);
    webex.verify().await;
}

#[tokio::test]
async fn token_endpoint_errors_are_not_retried_and_hide_the_secret() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("POST"))
        .and(path("/access_token"))
        .respond_with(responses::error(503, "try later", "ROUTER_T"))
        .expect(1)
        .mount(webex.server())
        .await;
    let creds = IntegrationCredentials::new("cid", "very-secret-client-secret");
    let err = webex
        .client()
        .oauth()
        .exchange_code(&creds, "code")
        .await
        .unwrap_err();
    assert!(err.is_server());
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains("very-secret-client-secret"), "{shown}");
        assert!(shown.contains("ROUTER_T"), "{shown}");
    }
    webex.verify().await;
}
