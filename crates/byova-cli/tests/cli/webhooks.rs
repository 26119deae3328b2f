//! `byova webhooks list|get|create|delete|ensure` with `--token`.

use byova::api::test_util::wiremock::{Mock, ResponseTemplate};
use byova::api::test_util::{WebexStandIn, matchers as m, responses};
use serde_json::{Value, json};

use crate::support::{TOKEN, byova_at, redacted};

const TARGET: &str = "https://hooks.example.com/webex";
const SECRET: &str = "hmac-secret-value";

fn hook(id: &str, event: &str) -> Value {
    json!({
        "id": id,
        "name": format!("BYOVA Service App {event}"),
        "targetUrl": TARGET,
        "resource": "serviceApp",
        "event": event,
        "secret": SECRET,
        "status": "active",
        "created": "2025-01-01T00:00:00Z",
    })
}

#[tokio::test]
async fn list_passes_max_and_owned_by_and_prints_a_table() {
    let webex = WebexStandIn::start().await;
    Mock::given(m::method("GET"))
        .and(m::path("/webhooks"))
        .and(m::exact_query(&[("max", "50"), ("ownedBy", "org")]))
        .and(m::bearer_token(TOKEN))
        .respond_with(responses::page(
            vec![hook("hook-1", "authorized"), hook("hook-2", "deauthorized")],
            None,
        ))
        .expect(2)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .args([
            "webhooks",
            "list",
            "--max",
            "50",
            "--owned-by",
            "org",
            "--token",
            TOKEN,
        ])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(
        outcome.stdout,
        format!(
            "ID      NAME                            RESOURCE    EVENT         STATUS  TARGET URL\n\
             hook-1  BYOVA Service App authorized    serviceApp  authorized    active  {TARGET}\n\
             hook-2  BYOVA Service App deauthorized  serviceApp  deauthorized  active  {TARGET}\n"
        )
    );
    assert!(!outcome.stdout.contains(SECRET));
    let outcome = byova_at(&webex)
        .args([
            "webhooks",
            "list",
            "--max",
            "50",
            "--owned-by",
            "org",
            "--token",
            TOKEN,
            "--json",
        ])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(
        outcome.json(),
        redacted(json!([
            hook("hook-1", "authorized"),
            hook("hook-2", "deauthorized")
        ]))
    );
    webex.verify().await;
}

#[tokio::test]
async fn get_shows_the_secret_only_when_asked() {
    let webex = WebexStandIn::start().await;
    Mock::given(m::method("GET"))
        .and(m::path("/webhooks/hook-1"))
        .and(m::bearer_token(TOKEN))
        .respond_with(responses::json(hook("hook-1", "authorized")))
        .expect(2)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .args(["webhooks", "get", "hook-1", "--token", TOKEN])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(
        outcome.stdout,
        format!(
            "id:         hook-1\n\
             name:       BYOVA Service App authorized\n\
             resource:   serviceApp\n\
             event:      authorized\n\
             status:     active\n\
             target url: {TARGET}\n\
             secret:     [redacted] (--show-secrets prints it)\n\
             created:    2025-01-01T00:00:00Z\n"
        )
    );
    let outcome = byova_at(&webex)
        .args([
            "webhooks",
            "get",
            "hook-1",
            "--token",
            TOKEN,
            "--show-secrets",
        ])
        .run()
        .await;
    outcome.assert_success();
    assert!(
        outcome
            .stdout
            .contains(&format!("\nsecret:     {SECRET}\n")),
        "{outcome:?}"
    );
    webex.verify().await;
}

#[tokio::test]
async fn create_sends_exactly_the_webhook() {
    let webex = WebexStandIn::start().await;
    Mock::given(m::method("POST"))
        .and(m::path("/webhooks"))
        .and(m::bearer_token(TOKEN))
        .and(m::body_json(json!({
            "name": "My hook",
            "targetUrl": TARGET,
            "resource": "serviceApp",
            "event": "authorized",
            "filter": "orgId=x",
            "secret": SECRET,
            "ownedBy": "org",
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(hook("hook-9", "authorized")))
        .expect(1)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .args([
            "--json",
            "webhooks",
            "create",
            "--name",
            "My hook",
            "--target-url",
            TARGET,
            "--event",
            "authorized",
            "--filter",
            "orgId=x",
            "--secret",
            SECRET,
            "--owned-by",
            "org",
            "--token",
            TOKEN,
        ])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(outcome.json(), redacted(hook("hook-9", "authorized")));
    webex.verify().await;
}

#[tokio::test]
async fn delete_and_its_errors() {
    let webex = WebexStandIn::start().await;
    Mock::given(m::method("DELETE"))
        .and(m::path("/webhooks/hook-1"))
        .and(m::bearer_token(TOKEN))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(m::method("DELETE"))
        .and(m::path("/webhooks/hook-gone"))
        .respond_with(responses::error(404, "Webhook not found", "ROUTER_GONE"))
        .expect(1)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .args(["webhooks", "delete", "hook-1", "--token", TOKEN])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(outcome.stdout, "Deleted webhook hook-1.\n");
    let outcome = byova_at(&webex)
        .args([
            "webhooks",
            "delete",
            "hook-gone",
            "--token",
            TOKEN,
            "--json",
        ])
        .run()
        .await;
    outcome.assert_failure();
    let error = outcome.error_json();
    assert_eq!(error["error"]["kind"], "not_found");
    assert_eq!(error["error"]["trackingId"], "ROUTER_GONE");
    webex.verify().await;
}

#[tokio::test]
async fn ensure_with_a_static_token_creates_only_what_is_missing() {
    let webex = WebexStandIn::start().await;
    Mock::given(m::method("GET"))
        .and(m::path("/webhooks"))
        .and(m::exact_query(&[("max", "100")]))
        .and(m::bearer_token(TOKEN))
        .respond_with(responses::page(vec![hook("hook-1", "authorized")], None))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(m::method("POST"))
        .and(m::path("/webhooks"))
        .and(m::bearer_token(TOKEN))
        .and(m::body_json(json!({
            "name": "BYOVA Service App deauthorized",
            "targetUrl": TARGET,
            "resource": "serviceApp",
            "event": "deauthorized",
            "secret": SECRET,
        })))
        .respond_with(responses::json(hook("hook-2", "deauthorized")))
        .expect(1)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .env("WEBEX_WEBHOOK_SECRET", SECRET)
        .args([
            "webhooks",
            "ensure",
            "--target-url",
            TARGET,
            "--token",
            TOKEN,
        ])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(
        outcome.stdout,
        format!(
            "authorized: unchanged webhook hook-1 -> {TARGET}\n\
             deauthorized: created webhook hook-2 -> {TARGET}\n"
        )
    );
    webex.verify().await;
}

#[tokio::test]
async fn ensure_needs_a_secret() {
    let webex = WebexStandIn::start().await;
    let outcome = byova_at(&webex)
        .args([
            "webhooks",
            "ensure",
            "--target-url",
            TARGET,
            "--token",
            TOKEN,
        ])
        .run()
        .await;
    outcome.assert_usage();
    assert!(outcome.stderr.contains("--secret"), "{outcome:?}");
    webex.verify().await;
}

#[tokio::test]
async fn ensure_with_a_refused_static_token_says_so() {
    let webex = WebexStandIn::start().await;
    Mock::given(m::method("GET"))
        .and(m::path("/webhooks"))
        .and(m::bearer_token(TOKEN))
        .respond_with(responses::error(401, "Invalid token", "ROUTER_401"))
        .expect(1)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .args([
            "webhooks",
            "ensure",
            "--target-url",
            TARGET,
            "--secret",
            SECRET,
            "--token",
            TOKEN,
        ])
        .run()
        .await;
    outcome.assert_failure();
    assert_eq!(
        outcome.stderr,
        "error: Webex refused the bearer given with --token (HTTP 401 Unauthorized)\n"
    );
    webex.verify().await;
}
