//! The Integration: code exchange (stored), the browser flow, refresh rules.

use std::time::Duration;

use byova_api::test_util::matchers as m;
use byova_api::test_util::responses;
use byova_api::test_util::wiremock::{Mock, ResponseTemplate};
use byova_auth::storage::TokenStorage;
use byova_auth::{AuthorizationCode, ErrorKind};
use byova_models::{OAuthTokens, Secret};
use time::OffsetDateTime;

use crate::support::http;
use crate::support::webex::{
    Env, INTEGRATION_ID, INTEGRATION_SECRET, expired, fresh, refresh_form, token_body,
};

const EXCHANGE_FORM: &str = "grant_type=authorization_code&code=the-code&client_id=int-client\
    &client_secret=int-secret-value&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback";

fn token_post() -> byova_api::test_util::wiremock::MockBuilder {
    Mock::given(m::method("POST"))
        .and(m::path("/access_token"))
        .and(m::form_content())
        .and(m::no_header("authorization"))
        .and(m::tracking_id())
        .and(m::user_agent())
}

#[tokio::test]
async fn exchanged_tokens_are_stored_and_served() {
    let env = Env::start().await;
    token_post()
        .and(m::body_string(EXCHANGE_FORM))
        .respond_with(responses::json(token_body(
            "new-access",
            Some("new-refresh"),
        )))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let before = OffsetDateTime::now_utc();
    let tokens = env
        .integration
        .exchange_code("the-code", None)
        .await
        .expect("exchange");
    assert_eq!(tokens.access_token.expose(), "new-access");
    assert_eq!(
        tokens.refresh_token.as_ref().map(Secret::expose),
        Some("new-refresh")
    );
    assert!(tokens.obtained_at >= before - Duration::from_secs(1));
    let stored = env
        .storage
        .integration_tokens()
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored, tokens);
    // Served from the cache: no further request (the catch-all would fail the test).
    assert_eq!(
        env.integration
            .access_token()
            .await
            .expect("token")
            .expose(),
        "new-access"
    );
    let status = env
        .integration
        .status()
        .await
        .expect("status")
        .expect("some");
    assert_eq!(status.obtained_at, tokens.obtained_at);
    assert_eq!(status.access_token_expires_at, tokens.expires_at());
    assert_eq!(
        status.refresh_token_expires_at,
        tokens.refresh_token_expires_at()
    );
    assert!(status.access_token_valid);
    assert!(status.refreshable);
    env.webex.verify().await;
}

#[tokio::test]
async fn pkce_sends_the_code_verifier() {
    let env = Env::start().await;
    let request = env
        .integration
        .authorization_request()
        .expect("builder")
        .pkce(true)
        .build()
        .expect("request");
    let verifier = request
        .pkce_verifier()
        .expect("verifier")
        .secret()
        .to_owned();
    token_post()
        .and(m::body_string(format!(
            "{EXCHANGE_FORM}&code_verifier={verifier}"
        )))
        .respond_with(responses::json(token_body(
            "pkce-access",
            Some("pkce-refresh"),
        )))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let code = AuthorizationCode::new("the-code", request.state());
    let tokens = env
        .integration
        .complete(&request, &code)
        .await
        .expect("complete");
    assert_eq!(tokens.access_token.expose(), "pkce-access");
    // A code whose state differs is refused before any request.
    let forged = AuthorizationCode::new("the-code", "forged");
    let error = env
        .integration
        .complete(&request, &forged)
        .await
        .expect_err("mismatch");
    assert!(error.is_state_mismatch());
    env.webex.verify().await;
}

#[tokio::test]
async fn the_browser_flow_end_to_end() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("probe");
    let port = probe.local_addr().expect("addr").port();
    drop(probe);
    let redirect_uri = format!("http://127.0.0.1:{port}/oauth/callback");
    let env = Env::start().await;
    let integration = byova_auth::IntegrationAuth::builder(
        byova_models::IntegrationCredentials::new(INTEGRATION_ID, INTEGRATION_SECRET)
            .with_redirect_uri(&redirect_uri),
        env.webex.client(),
    )
    .storage(env.storage.clone())
    .build();
    let form = format!(
        "grant_type=authorization_code&code=browser-code&client_id=int-client\
         &client_secret=int-secret-value&redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2Foauth%2Fcallback"
    );
    token_post()
        .and(m::body_string(form))
        .respond_with(responses::json(token_body(
            "flow-access",
            Some("flow-refresh"),
        )))
        .expect(1)
        .mount(env.webex.server())
        .await;

    let request = integration
        .authorization_request()
        .expect("builder")
        .build()
        .expect("request");
    let mut browser = None;
    let tokens = integration
        .authorize(&request, Duration::from_secs(120), |url| {
            // The "browser": follows the URL's redirect_uri and state back to the listener.
            let pairs: std::collections::HashMap<String, String> =
                url.query_pairs().into_owned().collect();
            let callback = format!(
                "{}?code=browser-code&state={}",
                pairs["redirect_uri"], pairs["state"]
            );
            browser = Some(tokio::spawn(async move { http::get(&callback).await }));
        })
        .await
        .expect("authorize");
    assert_eq!(tokens.access_token.expose(), "flow-access");
    let page = browser.expect("browser ran").await.expect("join");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Authorization successful"));
    assert_eq!(
        env.storage
            .integration_tokens()
            .await
            .expect("read")
            .expect("stored")
            .access_token
            .expose(),
        "flow-access"
    );
    env.webex.verify().await;
}

#[tokio::test]
async fn refresh_keeps_the_old_refresh_token_when_none_comes_back() {
    let env = Env::start().await;
    env.storage
        .set_integration_tokens(&expired("old-access", "old-refresh"))
        .await
        .expect("store");
    token_post()
        .and(m::body_string(refresh_form(
            "old-refresh",
            INTEGRATION_ID,
            INTEGRATION_SECRET,
        )))
        .respond_with(responses::json(token_body("new-access", None)))
        .expect(1)
        .mount(env.webex.server())
        .await;
    assert_eq!(
        env.integration
            .access_token()
            .await
            .expect("token")
            .expose(),
        "new-access"
    );
    let stored = env
        .storage
        .integration_tokens()
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.access_token.expose(), "new-access");
    assert_eq!(
        stored.refresh_token.as_ref().map(Secret::expose),
        Some("old-refresh")
    );
    // The refresh token keeps its original expiry.
    let original = expired("x", "y").refresh_token_expires_at().expect("known");
    let kept = stored.refresh_token_expires_at().expect("known");
    assert!(
        (kept - original).abs() < time::Duration::seconds(5),
        "{kept} vs {original}"
    );
    env.webex.verify().await;
}

#[tokio::test]
async fn a_new_refresh_token_replaces_the_old_one() {
    let env = Env::start().await;
    env.storage
        .set_integration_tokens(&expired("old-access", "old-refresh"))
        .await
        .expect("store");
    token_post()
        .and(m::body_string(refresh_form(
            "old-refresh",
            INTEGRATION_ID,
            INTEGRATION_SECRET,
        )))
        .respond_with(responses::json(token_body(
            "new-access",
            Some("rotated-refresh"),
        )))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let tokens = env.integration.refresh().await.expect("refresh");
    assert_eq!(
        tokens.refresh_token.as_ref().map(Secret::expose),
        Some("rotated-refresh")
    );
    let stored = env
        .storage
        .integration_tokens()
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored, tokens);
    env.webex.verify().await;
}

#[tokio::test]
async fn an_expired_refresh_token_asks_to_authorize_again_without_a_request() {
    let env = Env::start().await;
    let dead = OAuthTokens::new(
        "old",
        3600,
        OffsetDateTime::now_utc() - Duration::from_secs(100 * 86_400),
    )
    .with_refresh_token("dead-refresh", Some(90 * 86_400));
    env.storage
        .set_integration_tokens(&dead)
        .await
        .expect("store");
    let error = env
        .integration
        .access_token()
        .await
        .expect_err("expired refresh token");
    assert!(error.is_reauthorization_required(), "{error:?}");
    assert!(error.to_string().contains("authorize again"), "{error}");
    assert!(
        error.to_string().contains("refresh token expired at"),
        "{error}"
    );
    let status = env
        .integration
        .status()
        .await
        .expect("status")
        .expect("some");
    assert!(!status.access_token_valid && !status.refreshable);

    let no_refresh = OAuthTokens::new(
        "old",
        3600,
        OffsetDateTime::now_utc() - Duration::from_secs(86_400),
    );
    env.storage
        .set_integration_tokens(&no_refresh)
        .await
        .expect("store");
    let error = env
        .integration
        .access_token()
        .await
        .expect_err("no refresh token");
    assert!(error.is_reauthorization_required());
    env.webex.verify().await;
}

#[tokio::test]
async fn a_refresh_token_webex_rejects_asks_to_authorize_again_and_keeps_storage() {
    let env = Env::start().await;
    let stored = expired("old-access", "revoked-refresh");
    env.storage
        .set_integration_tokens(&stored)
        .await
        .expect("store");
    token_post()
        .and(m::body_string(refresh_form(
            "revoked-refresh",
            INTEGRATION_ID,
            INTEGRATION_SECRET,
        )))
        .respond_with(responses::error(400, "invalid_grant", "ROUTER_1"))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let error = env.integration.access_token().await.expect_err("rejected");
    assert!(error.is_reauthorization_required(), "{error:?}");
    let source = std::error::Error::source(&error)
        .expect("api error kept")
        .to_string();
    assert!(
        source.contains("invalid_grant") && source.contains("ROUTER_1"),
        "{source}"
    );
    assert_eq!(
        env.storage.integration_tokens().await.expect("read"),
        Some(stored)
    );
    env.webex.verify().await;
}

#[tokio::test]
async fn not_authorized_yet_is_a_clear_error() {
    let env = Env::start().await;
    let error = env
        .integration
        .access_token()
        .await
        .expect_err("nothing stored");
    assert!(error.is_not_authorized());
    assert!(error.to_string().contains("byova auth login"), "{error}");
    assert_eq!(env.integration.status().await.expect("status"), None);
}

#[tokio::test]
async fn sign_out_forgets_the_tokens() {
    let env = Env::start().await;
    env.storage
        .set_integration_tokens(&fresh("a", "r"))
        .await
        .expect("store");
    assert_eq!(
        env.integration
            .access_token()
            .await
            .expect("token")
            .expose(),
        "a"
    );
    env.integration.sign_out().await.expect("sign out");
    assert_eq!(env.storage.integration_tokens().await.expect("read"), None);
    assert!(
        env.integration
            .access_token()
            .await
            .expect_err("gone")
            .is_not_authorized()
    );
}

#[tokio::test]
async fn a_token_expiring_within_the_buffer_is_refreshed() {
    let soon =
        OAuthTokens::new("soon", 90, OffsetDateTime::now_utc()).with_refresh_token("r", None);
    // Default buffer (60 s): 90 s left is still good.
    let env = Env::start().await;
    env.storage
        .set_integration_tokens(&soon)
        .await
        .expect("store");
    assert_eq!(
        env.integration
            .access_token()
            .await
            .expect("token")
            .expose(),
        "soon"
    );
    env.webex.verify().await;

    // A 120 s buffer: refresh now.
    let env = Env::start_with(
        byova_auth::RefreshSettings::default().with_buffer(Duration::from_secs(120)),
        byova_api::RetryPolicy::default(),
    )
    .await;
    env.storage
        .set_integration_tokens(&soon)
        .await
        .expect("store");
    token_post()
        .and(m::body_string(refresh_form(
            "r",
            INTEGRATION_ID,
            INTEGRATION_SECRET,
        )))
        .respond_with(responses::json(token_body("refreshed", None)))
        .expect(1)
        .mount(env.webex.server())
        .await;
    assert_eq!(
        env.integration
            .access_token()
            .await
            .expect("token")
            .expose(),
        "refreshed"
    );
    env.webex.verify().await;
}

#[tokio::test]
async fn a_bad_code_is_an_api_error_and_stores_nothing() {
    let env = Env::start().await;
    token_post()
        .and(m::body_string(EXCHANGE_FORM))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(serde_json::json!({"message": "invalid code"})),
        )
        .expect(1)
        .mount(env.webex.server())
        .await;
    let error = env
        .integration
        .exchange_code("the-code", None)
        .await
        .expect_err("bad code");
    assert_eq!(error.kind(), &ErrorKind::Api);
    assert_eq!(
        error
            .api_error()
            .and_then(byova_api::Error::status)
            .map(|s| s.as_u16()),
        Some(400)
    );
    assert_eq!(env.storage.integration_tokens().await.expect("read"), None);
    env.webex.verify().await;
}
