//! `/webhooks`.

use byova_api::StaticToken;
use byova_api::test_util::matchers::{
    bearer_token, body_string, exact_query, json_content, method, path, tracking_id, user_agent,
};
use byova_api::test_util::{WebexStandIn, responses};
use byova_models::{WebhookCreate, WebhookUpdate};
use serde_json::json;
use wiremock::{Mock, ResponseTemplate};

fn hook(id: &str) -> serde_json::Value {
    json!({"id": id, "name": "BYOVA Service App authorized", "targetUrl": "https://example.com/hook",
           "resource": "serviceApp", "event": "authorized", "status": "active"})
}

#[tokio::test]
async fn list_with_max_and_owned_by_accepts_a_bare_array() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/webhooks"))
        .and(exact_query(&[("max", "10"), ("ownedBy", "org")]))
        .and(bearer_token("integration-token"))
        .and(tracking_id())
        .and(user_agent())
        .respond_with(responses::json(json!([hook("wh-1"), hook("wh-2")])))
        .expect(1)
        .mount(webex.server())
        .await;
    let hooks = webex
        .client()
        .webhooks(StaticToken::new("integration-token"));
    let all = hooks.list().max(10).owned_by("org").await.unwrap();
    assert_eq!(
        all.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
        ["wh-1", "wh-2"]
    );
    webex.verify().await;
}

#[tokio::test]
async fn get_create_update_delete() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/webhooks/wh-1"))
        .and(exact_query(&[]))
        .and(bearer_token("integration-token"))
        .and(tracking_id())
        .respond_with(responses::json(hook("wh-1")))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(method("POST"))
        .and(path("/webhooks"))
        .and(bearer_token("integration-token"))
        .and(json_content())
        .and(tracking_id())
        .and(body_string(
            r#"{"name":"BYOVA Service App authorized","targetUrl":"https://example.com/hook","resource":"serviceApp","event":"authorized"}"#,
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(hook("wh-1")))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(method("POST"))
        .and(path("/webhooks"))
        .and(bearer_token("integration-token"))
        .and(json_content())
        .and(body_string(
            r#"{"name":"BYOVA Service App deauthorized","targetUrl":"https://example.com/hook","resource":"serviceApp","event":"deauthorized","filter":"orgId=o","secret":"hmac-key"}"#,
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(hook("wh-2")))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(method("PUT"))
        .and(path("/webhooks/wh-1"))
        .and(bearer_token("integration-token"))
        .and(json_content())
        .and(tracking_id())
        .and(body_string(
            r#"{"name":"BYOVA Service App authorized","targetUrl":"https://example.com/new-hook"}"#,
        ))
        .respond_with(responses::json(
            json!({"id": "wh-1", "targetUrl": "https://example.com/new-hook"}),
        ))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(method("DELETE"))
        .and(path("/webhooks/wh-1"))
        .and(bearer_token("integration-token"))
        .and(tracking_id())
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(webex.server())
        .await;

    let hooks = webex
        .client()
        .webhooks(StaticToken::new("integration-token"));
    let got = hooks.get("wh-1").await.unwrap();
    assert_eq!(
        (got.resource.as_deref(), got.event.as_deref()),
        (Some("serviceApp"), Some("authorized"))
    );
    let created = hooks
        .create(&WebhookCreate::service_app(
            "BYOVA Service App authorized",
            "https://example.com/hook",
            "authorized",
        ))
        .await
        .unwrap();
    assert_eq!(created, got);
    let with_secret = WebhookCreate::service_app(
        "BYOVA Service App deauthorized",
        "https://example.com/hook",
        "deauthorized",
    )
    .with_filter("orgId=o")
    .with_secret("hmac-key");
    assert_eq!(hooks.create(&with_secret).await.unwrap().id, "wh-2");
    let updated = hooks
        .update(
            "wh-1",
            &WebhookUpdate::new(
                "BYOVA Service App authorized",
                "https://example.com/new-hook",
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        updated.target_url.as_deref(),
        Some("https://example.com/new-hook")
    );
    hooks.delete("wh-1").await.unwrap();
    webex.verify().await;
}
