//! Secrets never show in `Debug` or `Display` output.

use std::sync::Arc;

use byova_api::test_util::matchers as m;
use byova_api::test_util::responses;
use byova_api::test_util::wiremock::Mock;
use byova_auth::storage::{FileTokenStorage, MemoryTokenStorage, TokenStorage};
use byova_auth::webhook::{ServiceAppWebhooks, WebhookOutcome};
use byova_auth::{AuthorizationCode, PkceVerifier};
use serde_json::json;

use crate::support::webex::{Env, INTEGRATION_SECRET, SA_SECRET, fresh, org, token_body};

const SECRETS: [&str; 7] = [
    INTEGRATION_SECRET,
    SA_SECRET,
    "int-access",
    "int-refresh",
    "sa-access-secret",
    "sa-refresh-secret",
    "hmac-secret-value",
];

fn assert_clean(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows {secret:?}: {text}");
    }
}

#[tokio::test]
async fn debug_and_display_never_show_secrets() {
    let env = Env::start().await;
    env.authorize_integration().await;
    env.storage
        .set_service_app_tokens(&org(), &fresh("sa-access-secret", "sa-refresh-secret"))
        .await
        .expect("store");
    assert_clean("IntegrationAuth", &format!("{:?}", env.integration));
    assert_clean("ServiceAppAuth", &format!("{:?}", env.service_apps));
    assert_clean(
        "OrgTokenSource",
        &format!("{:?}", env.service_apps.token_source(&org())),
    );
    assert_clean(
        "OrgClient",
        &format!("{:?}", env.service_apps.org_client(&org())),
    );
    assert_clean("MemoryTokenStorage", &format!("{:?}", env.storage));
    assert_clean(
        "stored tokens",
        &format!("{:?}", env.service_apps.tokens(&org()).await.expect("read")),
    );
    assert_clean(
        "status",
        &format!(
            "{:?}",
            env.service_apps.status(&org()).await.expect("status")
        ),
    );

    let dir = tempfile::tempdir().expect("dir");
    let file = FileTokenStorage::new(dir.path().join("t.json"));
    file.set_integration_tokens(&fresh("int-access", "int-refresh"))
        .await
        .expect("store");
    assert_clean("FileTokenStorage", &format!("{file:?}"));
    let memory = Arc::new(MemoryTokenStorage::new());
    memory
        .set_integration_tokens(&fresh("int-access", "int-refresh"))
        .await
        .expect("store");
    assert_clean("MemoryTokenStorage", &format!("{memory:?}"));

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
    assert!(!format!("{request:?}").contains(&verifier));
    assert!(
        !format!(
            "{:?}",
            PkceVerifier::new(verifier.clone()).expect("verifier")
        )
        .contains(&verifier)
    );
    let code = AuthorizationCode::new("one-time-code-value", request.state());
    assert!(!format!("{code:?}").contains("one-time-code-value"));

    // A webhook handler and its outcome.
    Mock::given(m::method("POST"))
        .and(m::path_regex("^/applications/.+/token$"))
        .respond_with(responses::json(token_body(
            "sa-access-secret",
            Some("sa-refresh-secret"),
        )))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let webhooks = ServiceAppWebhooks::new(env.service_apps.clone(), "hmac-secret-value");
    assert_clean("ServiceAppWebhooks", &format!("{webhooks:?}"));
    let body = serde_json::to_vec(&json!({"resource": "serviceApp", "event": "authorized", "orgId": crate::support::webex::ORG})).expect("json");
    let signature = webhooks.verifier().sign(&body);
    let outcome = webhooks
        .handle_signed(Some(signature.as_bytes()), &body)
        .await
        .expect("handled");
    assert!(matches!(outcome, WebhookOutcome::Authorized { .. }));
    assert_clean("WebhookOutcome", &format!("{outcome:?}"));

    // Errors of failed token calls.
    Mock::given(m::method("POST"))
        .and(m::path("/access_token"))
        .respond_with(responses::error(400, "invalid_grant", "ROUTER_E"))
        .mount(env.webex.server())
        .await;
    let error = env
        .integration
        .exchange_code("one-time-code-value", None)
        .await
        .expect_err("refused");
    for text in [format!("{error}"), format!("{error:?}")] {
        assert_clean("exchange error", &text);
        assert!(!text.contains("one-time-code-value"), "{text}");
    }
    let error = env
        .service_apps
        .save_registration(&org(), "sa-refresh-secret")
        .await
        .expect_err("refused");
    assert_clean("registration error", &format!("{error} {error:?}"));
    env.webex.verify().await;
}
