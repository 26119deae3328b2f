//! Service App webhooks: signatures, handling, duplicates.

use byova_api::test_util::matchers as m;
use byova_api::test_util::responses;
use byova_api::test_util::wiremock::Mock;
use byova_auth::ErrorKind;
use byova_auth::storage::TokenStorage;
use byova_auth::webhook::{EventDeduper, ServiceAppWebhooks, WebhookOutcome, WebhookVerifier};
use http::{HeaderMap, HeaderValue};
use serde_json::json;

use crate::support::webex::{
    APPLICATION_ID, Env, ORG, ORG_ENCODED, SA_ID, SA_SECRET, fresh, org, token_body,
};

const SECRET: &str = "webhook-hmac-secret";

fn authorized_body(created: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "hook-authorized",
        "name": "BYOVA Service App authorized",
        "resource": "serviceApp",
        "event": "authorized",
        "orgId": ORG_ENCODED,
        "applicationId": APPLICATION_ID,
        "created": created,
    }))
    .expect("json")
}

fn signed(body: &[u8], secret: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "X-Spark-Signature",
        HeaderValue::from_str(&WebhookVerifier::new(secret).sign(body)).expect("header"),
    );
    headers
}

async fn mount_mint(env: &Env, times: u64) {
    Mock::given(m::method("POST"))
        .and(m::path(format!("/applications/{APPLICATION_ID}/token")))
        .and(m::bearer_token("int-access"))
        .and(m::body_json(
            json!({"clientId": SA_ID, "clientSecret": SA_SECRET, "targetOrgId": ORG}),
        ))
        .respond_with(responses::json(token_body("sa-access", Some("sa-refresh"))))
        .expect(times)
        .mount(env.webex.server())
        .await;
}

#[tokio::test]
async fn a_signed_authorized_event_mints_and_stores_tokens() {
    let env = Env::start().await;
    env.authorize_integration().await;
    mount_mint(&env, 1).await;
    let webhooks = ServiceAppWebhooks::new(env.service_apps.clone(), SECRET);
    let body = authorized_body("2025-05-01T10:00:00.000Z");
    let outcome = webhooks
        .handle(&signed(&body, SECRET), &body)
        .await
        .expect("handled");
    let WebhookOutcome::Authorized { org_id, tokens } = outcome else {
        panic!("unexpected outcome {outcome:?}");
    };
    assert_eq!(org_id, org());
    assert_eq!(tokens.access_token.expose(), "sa-access");
    assert_eq!(
        env.storage.service_app_tokens(&org()).await.expect("read"),
        Some(tokens)
    );
    env.webex.verify().await;
}

#[tokio::test]
async fn bad_signatures_are_rejected_before_anything_happens() {
    let env = Env::start().await;
    env.authorize_integration().await;
    let webhooks = ServiceAppWebhooks::new(env.service_apps.clone(), SECRET);
    let body = authorized_body("2025-05-01T10:00:00.000Z");

    let error = webhooks
        .handle(&signed(&body, "wrong-secret"), &body)
        .await
        .expect_err("wrong secret");
    assert_eq!(error.kind(), &ErrorKind::InvalidSignature);

    let mut tampered = body.clone();
    let position = tampered.iter().position(|b| *b == b'a').expect("an a");
    tampered[position] = b'b';
    let error = webhooks
        .handle(&signed(&body, SECRET), &tampered)
        .await
        .expect_err("tampered");
    assert_eq!(error.kind(), &ErrorKind::InvalidSignature);

    let error = webhooks
        .handle(&HeaderMap::new(), &body)
        .await
        .expect_err("missing");
    assert_eq!(error.kind(), &ErrorKind::MissingSignature);
    assert!(error.is_signature());

    let mut upper = HeaderMap::new();
    upper.insert("x-spark-signature", HeaderValue::from_static("not-hex"));
    let error = webhooks.handle(&upper, &body).await.expect_err("garbage");
    assert_eq!(error.kind(), &ErrorKind::InvalidSignature);

    // Nothing was minted or stored (the stand-in's catch-all fails on any request).
    assert_eq!(env.storage.registered_orgs().await.expect("orgs"), vec![]);
    env.webex.verify().await;
}

#[tokio::test]
async fn deauthorized_deletes_the_org_plain_uuid_under_data() {
    let env = Env::start().await;
    env.storage
        .set_service_app_tokens(&org(), &fresh("sa", "r"))
        .await
        .expect("store");
    let webhooks = ServiceAppWebhooks::new(env.service_apps.clone(), SECRET);
    // Served from the cache before the event ...
    assert_eq!(
        env.service_apps
            .access_token(&org())
            .await
            .expect("token")
            .expose(),
        "sa"
    );
    let body =
        serde_json::to_vec(&json!({"name": "deauthorized", "data": {"orgId": ORG}})).expect("json");
    let outcome = webhooks
        .handle_signed(
            Some(WebhookVerifier::new(SECRET).sign(&body).as_bytes()),
            &body,
        )
        .await
        .expect("handled");
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
    // ... and no longer after it.
    assert!(
        env.service_apps
            .access_token(&org())
            .await
            .expect_err("gone")
            .is_org_not_registered()
    );
    let again = webhooks
        .handle(&signed(&body, SECRET), &body)
        .await
        .expect("handled");
    assert_eq!(
        again,
        WebhookOutcome::Deauthorized {
            org_id: org(),
            was_registered: false
        }
    );
}

#[tokio::test]
async fn a_redelivered_event_is_handled_once() {
    let env = Env::start().await;
    env.authorize_integration().await;
    mount_mint(&env, 1).await;
    let webhooks = ServiceAppWebhooks::new(env.service_apps.clone(), SECRET);
    let body = authorized_body("2025-05-01T10:00:00.000Z");
    assert!(matches!(
        webhooks
            .handle(&signed(&body, SECRET), &body)
            .await
            .expect("first"),
        WebhookOutcome::Authorized { .. }
    ));
    let duplicate = webhooks
        .handle(&signed(&body, SECRET), &body)
        .await
        .expect("second");
    assert_eq!(
        duplicate,
        WebhookOutcome::Duplicate {
            event_id: format!("hook-authorized|authorized|{ORG}|2025-05-01T10:00:00.000Z")
        }
    );
    env.webex.verify().await;
}

#[tokio::test(start_paused = true)]
async fn a_failed_delivery_is_not_remembered_and_the_window_ends() {
    let env = Env::start().await;
    env.authorize_integration().await;
    Mock::given(m::method("POST"))
        .and(m::path(format!("/applications/{APPLICATION_ID}/token")))
        .respond_with(responses::error(
            400,
            "org not authorized yet",
            "ROUTER_400",
        ))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(env.webex.server())
        .await;
    mount_mint(&env, 2).await;
    let webhooks = ServiceAppWebhooks::new(env.service_apps.clone(), SECRET)
        .with_deduper(EventDeduper::new(std::time::Duration::from_secs(60), 100));
    let body = authorized_body("2025-05-01T10:00:00.000Z");
    let error = webhooks
        .handle(&signed(&body, SECRET), &body)
        .await
        .expect_err("mint failed");
    assert!(error.is_api());
    // Webex retries the delivery: handled this time.
    assert!(matches!(
        webhooks
            .handle(&signed(&body, SECRET), &body)
            .await
            .expect("retry"),
        WebhookOutcome::Authorized { .. }
    ));
    assert!(matches!(
        webhooks
            .handle(&signed(&body, SECRET), &body)
            .await
            .expect("dup"),
        WebhookOutcome::Duplicate { .. }
    ));
    // After the window the same id is handled again.
    tokio::time::advance(std::time::Duration::from_secs(61)).await;
    assert!(matches!(
        webhooks
            .handle(&signed(&body, SECRET), &body)
            .await
            .expect("after window"),
        WebhookOutcome::Authorized { .. }
    ));
    env.webex.verify().await;
}

#[tokio::test]
async fn other_resources_events_and_applications_are_typed_errors() {
    let env = Env::start().await;
    let webhooks = ServiceAppWebhooks::new(env.service_apps.clone(), SECRET);
    let cases = [
        (
            json!({"resource": "messages", "event": "created", "orgId": ORG}),
            ErrorKind::UnexpectedResource {
                resource: "messages".into(),
            },
        ),
        (
            json!({"resource": "serviceApp", "event": "updated", "orgId": ORG}),
            ErrorKind::UnexpectedEvent {
                event: "updated".into(),
            },
        ),
        (
            json!({"resource": "serviceApp", "event": "authorized"}),
            ErrorKind::InvalidPayload,
        ),
        (
            json!({"resource": "serviceApp", "event": "authorized", "orgId": "org-test-1"}),
            ErrorKind::InvalidPayload,
        ),
        (
            json!({"resource": "serviceApp", "event": "authorized", "orgId": ORG, "applicationId": "another-app"}),
            ErrorKind::UnexpectedApplication,
        ),
    ];
    for (payload, kind) in cases {
        let body = serde_json::to_vec(&payload).expect("json");
        let error = webhooks
            .handle(&signed(&body, SECRET), &body)
            .await
            .expect_err("rejected");
        assert_eq!(error.kind(), &kind, "{payload}");
        assert!(error.is_webhook_payload());
    }
    // The application check can be turned off.
    let lenient = webhooks.check_application(false);
    let body = serde_json::to_vec(
        &json!({"event": "deauthorized", "orgId": ORG, "applicationId": "another-app"}),
    )
    .expect("json");
    assert_eq!(
        lenient
            .handle(&signed(&body, SECRET), &body)
            .await
            .expect("accepted"),
        WebhookOutcome::Deauthorized {
            org_id: org(),
            was_registered: false
        }
    );
    env.webex.verify().await;
}
