//! `ensure_service_app_webhooks`: every page, create missing, repair secret/status, idempotent.

use byova_api::test_util::matchers as m;
use byova_api::test_util::responses;
use byova_api::test_util::wiremock::Mock;
use byova_auth::webhook::{WebhookChange, ensure_service_app_webhooks};
use byova_models::Secret;
use serde_json::{Value, json};

use crate::support::webex::Env;

const TARGET: &str = "https://hooks.example.com/webex";
const SECRET: &str = "hook-secret";

fn hook(id: &str, event: &str, target: &str, secret: Option<&str>, status: &str) -> Value {
    let mut hook = json!({
        "id": id,
        "name": format!("hook {id}"),
        "targetUrl": target,
        "resource": "serviceApp",
        "event": event,
        "status": status,
    });
    if let Some(secret) = secret {
        hook["secret"] = json!(secret);
    }
    hook
}

/// Mounts a two-page listing: `page2` holds `second`.
async fn mount_listing(env: &Env, first: Vec<Value>, second: Vec<Value>) {
    let next = env.webex.url("/webhooks?max=100&cursor=p2");
    Mock::given(m::method("GET"))
        .and(m::path("/webhooks"))
        .and(m::exact_query(&[("max", "100")]))
        .and(m::bearer_token("int-access"))
        .respond_with(responses::page(first, Some(&next)))
        .expect(1)
        .mount(env.webex.server())
        .await;
    Mock::given(m::method("GET"))
        .and(m::path("/webhooks"))
        .and(m::exact_query(&[("max", "100"), ("cursor", "p2")]))
        .and(m::bearer_token("int-access"))
        .respond_with(responses::page(second, None))
        .expect(1)
        .mount(env.webex.server())
        .await;
}

#[tokio::test]
async fn creates_the_missing_hook_found_nowhere_on_any_page() {
    let env = Env::start().await;
    env.authorize_integration().await;
    mount_listing(
        &env,
        vec![
            hook(
                "elsewhere",
                "deauthorized",
                "https://old.example.com/hook",
                None,
                "active",
            ),
            json!({"id": "msg", "resource": "messages", "event": "created", "targetUrl": TARGET}),
        ],
        vec![hook("auth-1", "authorized", TARGET, Some(SECRET), "active")],
    )
    .await;
    Mock::given(m::method("POST"))
        .and(m::path("/webhooks"))
        .and(m::bearer_token("int-access"))
        .and(m::body_string(format!(
            r#"{{"name":"BYOVA Service App deauthorized","targetUrl":"{TARGET}","resource":"serviceApp","event":"deauthorized","secret":"{SECRET}"}}"#
        )))
        .respond_with(responses::json(hook("deauth-new", "deauthorized", TARGET, Some(SECRET), "active")))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let [authorized, deauthorized] =
        ensure_service_app_webhooks(&env.integration, TARGET, &Secret::new(SECRET))
            .await
            .expect("ensure");
    assert_eq!(
        (authorized.event, authorized.change),
        ("authorized", WebhookChange::Unchanged)
    );
    assert_eq!(authorized.webhook.id, "auth-1");
    assert_eq!(
        (deauthorized.event, deauthorized.change),
        ("deauthorized", WebhookChange::Created)
    );
    assert_eq!(deauthorized.webhook.id, "deauth-new");
    env.webex.verify().await;
}

#[tokio::test]
async fn repairs_a_wrong_secret_and_an_inactive_hook() {
    let env = Env::start().await;
    env.authorize_integration().await;
    mount_listing(
        &env,
        vec![hook(
            "auth-1",
            "authorized",
            TARGET,
            Some("old-secret"),
            "active",
        )],
        vec![hook(
            "deauth-1",
            "deauthorized",
            TARGET,
            Some(SECRET),
            "inactive",
        )],
    )
    .await;
    for (id, name, event) in [
        ("auth-1", "hook auth-1", "authorized"),
        ("deauth-1", "hook deauth-1", "deauthorized"),
    ] {
        Mock::given(m::method("PUT"))
            .and(m::path(format!("/webhooks/{id}")))
            .and(m::bearer_token("int-access"))
            .and(m::body_string(format!(
                r#"{{"name":"{name}","targetUrl":"{TARGET}","secret":"{SECRET}","status":"active"}}"#
            )))
            .respond_with(responses::json(hook(id, event, TARGET, Some(SECRET), "active")))
            .expect(1)
            .mount(env.webex.server())
            .await;
    }
    let [authorized, deauthorized] =
        ensure_service_app_webhooks(&env.integration, TARGET, &Secret::new(SECRET))
            .await
            .expect("ensure");
    assert_eq!(authorized.change, WebhookChange::Repaired);
    assert_eq!(deauthorized.change, WebhookChange::Repaired);
    env.webex.verify().await;
}

#[tokio::test]
async fn a_second_run_changes_nothing() {
    let env = Env::start().await;
    env.authorize_integration().await;
    mount_listing(
        &env,
        vec![hook(
            "deauth-1",
            "deauthorized",
            TARGET,
            Some(SECRET),
            "active",
        )],
        vec![hook("auth-1", "authorized", TARGET, Some(SECRET), "active")],
    )
    .await;
    let [authorized, deauthorized] =
        ensure_service_app_webhooks(&env.integration, TARGET, &Secret::new(SECRET))
            .await
            .expect("ensure");
    assert_eq!(authorized.change, WebhookChange::Unchanged);
    assert_eq!(deauthorized.change, WebhookChange::Unchanged);
    // Only the two list requests were made (anything else hits the failing catch-all).
    env.webex.verify().await;
}
