//! Service App webhooks through the facade: signatures, outcomes, de-duplication, `ensure`.

use byova::ErrorKind;
use byova::api::test_util::{matchers as m, responses, wiremock::Mock};
use byova::auth::webhook::{WebhookChange, WebhookOutcome, WebhookVerifier};
use http::{HeaderMap, HeaderValue};
use serde_json::json;

use crate::support::{APPLICATION_ID, Env, ORG, ORG_ENCODED, SA_ID, SA_SECRET, org, token_body};

const SECRET: &str = "hmac-secret-value";

fn authorized_body(id: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": id,
        "resource": "serviceApp",
        "event": "authorized",
        "orgId": ORG_ENCODED,
        "created": "2025-01-01T00:00:00.000Z",
    }))
    .expect("json")
}

fn signed(body: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let signature = WebhookVerifier::new(SECRET).sign(body);
    headers.insert(
        "x-spark-signature",
        HeaderValue::try_from(signature).expect("header"),
    );
    headers
}

async fn mount_mint(env: &Env, times: u64) {
    Mock::given(m::method("POST"))
        .and(m::path(format!("/applications/{APPLICATION_ID}/token")))
        .and(m::bearer_token("int-access"))
        .and(m::body_json(json!({
            "clientId": SA_ID,
            "clientSecret": SA_SECRET,
            "targetOrgId": ORG,
        })))
        .respond_with(responses::json(token_body(
            "sa-minted",
            "sa-minted-refresh",
        )))
        .expect(times)
        .mount(env.webex.server())
        .await;
}

#[tokio::test]
async fn a_signed_authorized_delivery_mints_and_stores_the_org_once() {
    let env = Env::start().await;
    env.authorize_integration().await;
    mount_mint(&env, 1).await;
    let byova = env
        .builder()
        .webhook_secret(SECRET)
        .build()
        .expect("facade");

    let body = authorized_body("hook-1");
    let outcome = byova
        .handle_service_app_webhook(&signed(&body), &body)
        .await
        .expect("authorized");
    let WebhookOutcome::Authorized { org_id, tokens } = outcome else {
        panic!("expected Authorized, got {outcome:?}");
    };
    assert_eq!(org_id, org());
    assert_eq!(tokens.access_token.expose(), "sa-minted");
    let stored = env.storage.service_app_tokens(&org()).await.expect("read");
    assert_eq!(
        stored
            .map(|t| t.access_token.expose().to_owned())
            .as_deref(),
        Some("sa-minted")
    );
    assert_eq!(
        byova
            .client_for_org(&org())
            .await
            .expect("registered")
            .org(),
        &org()
    );

    // Webex redelivers the same event: nothing is minted again.
    let outcome = byova
        .handle_service_app_webhook(&signed(&body), &body)
        .await
        .expect("duplicate");
    assert_eq!(
        outcome,
        WebhookOutcome::Duplicate {
            event_id: format!("hook-1|authorized|{ORG}|2025-01-01T00:00:00.000Z")
        }
    );
    env.webex.verify().await;
}

#[tokio::test]
async fn bad_or_missing_signatures_are_refused_before_anything_happens() {
    let env = Env::start().await;
    env.authorize_integration().await;
    let byova = env
        .builder()
        .webhook_secret(SECRET)
        .build()
        .expect("facade");
    let body = authorized_body("hook-2");

    let error = byova
        .handle_service_app_webhook(&HeaderMap::new(), &body)
        .await
        .expect_err("no signature");
    assert_eq!(error.kind(), &ErrorKind::Auth);
    assert_eq!(
        error.auth_error().expect("auth").kind(),
        &byova::auth::ErrorKind::MissingSignature
    );

    // A signature of another body (a re-serialised payload, a forgery).
    let mut tampered = body.clone();
    tampered.push(b' ');
    let error = byova
        .handle_service_app_webhook(&signed(&tampered), &body)
        .await
        .expect_err("wrong signature");
    assert!(error.auth_error().expect("auth").is_signature());
    assert_eq!(env.storage.registered_orgs().await.expect("orgs"), vec![]);
    env.webex.verify().await;
}

#[tokio::test]
async fn without_a_secret_deliveries_are_handled_unsigned_and_deduplicated() {
    let env = Env::start().await;
    env.register_org().await;
    let byova = env.byova();
    let body = serde_json::to_vec(&json!({
        "id": "hook-3",
        "event": "deauthorized",
        "orgId": ORG,
        "created": "2025-01-02T00:00:00.000Z",
    }))
    .expect("json");

    let outcome = byova
        .handle_service_app_webhook(&HeaderMap::new(), &body)
        .await
        .expect("deauthorized");
    assert_eq!(
        outcome,
        WebhookOutcome::Deauthorized {
            org_id: org(),
            was_registered: true
        }
    );
    assert_eq!(
        env.storage.service_app_tokens(&org()).await.expect("read"),
        None
    );
    let outcome = byova
        .handle_service_app_webhook(&HeaderMap::new(), &body)
        .await
        .expect("duplicate");
    assert_eq!(
        outcome,
        WebhookOutcome::Duplicate {
            event_id: format!("hook-3|deauthorized|{ORG}|2025-01-02T00:00:00.000Z")
        }
    );

    let error = byova
        .handle_service_app_webhook(
            &HeaderMap::new(),
            br#"{"resource":"messages","event":"created"}"#,
        )
        .await
        .expect_err("not a service app event");
    assert!(
        error.auth_error().expect("auth").is_webhook_payload(),
        "{error}"
    );
    env.webex.verify().await;
}

#[tokio::test]
async fn ensure_creates_both_signed_hooks_and_needs_a_secret() {
    let env = Env::start().await;
    env.authorize_integration().await;
    let target = "https://hooks.example.com/webex";

    let unsigned = env.byova();
    let error = unsigned
        .ensure_service_app_webhooks(target)
        .await
        .expect_err("no secret");
    assert_eq!(
        error.kind(),
        &ErrorKind::NotConfigured("the webhook secret (WEBEX_WEBHOOK_SECRET)")
    );

    Mock::given(m::method("GET"))
        .and(m::path("/webhooks"))
        .and(m::exact_query(&[("max", "100")]))
        .and(m::bearer_token("int-access"))
        .respond_with(responses::page(vec![], None))
        .expect(1)
        .mount(env.webex.server())
        .await;
    for (event, name) in [
        ("authorized", "BYOVA Service App authorized"),
        ("deauthorized", "BYOVA Service App deauthorized"),
    ] {
        Mock::given(m::method("POST"))
            .and(m::path("/webhooks"))
            .and(m::bearer_token("int-access"))
            .and(m::body_json(json!({
                "name": name,
                "targetUrl": target,
                "resource": "serviceApp",
                "event": event,
                "secret": SECRET,
            })))
            .respond_with(responses::json(json!({
                "id": format!("hook-{event}"),
                "name": name,
                "targetUrl": target,
                "resource": "serviceApp",
                "event": event,
                "status": "active",
            })))
            .expect(1)
            .mount(env.webex.server())
            .await;
    }
    let byova = env
        .builder()
        .webhook_secret(SECRET)
        .build()
        .expect("facade");
    let ensured = byova
        .ensure_service_app_webhooks(target)
        .await
        .expect("ensure");
    assert_eq!(ensured[0].event, "authorized");
    assert_eq!(ensured[0].change, WebhookChange::Created);
    assert_eq!(ensured[0].webhook.id, "hook-authorized");
    assert_eq!(ensured[1].event, "deauthorized");
    assert_eq!(ensured[1].change, WebhookChange::Created);
    assert_eq!(ensured[1].webhook.id, "hook-deauthorized");
    env.webex.verify().await;
}
