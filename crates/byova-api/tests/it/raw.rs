//! The raw request path other crates use.

use byova_api::test_util::matchers::{
    body_json, exact_query, header, json_content, method, no_header, path, tracking_id, user_agent,
};
use byova_api::test_util::{UNEXPECTED_STATUS, WebexStandIn, responses};
use byova_api::{Client, StaticToken, StatusCode};
use http::{HeaderName, HeaderValue};
use serde_json::json;
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn send_raw_returns_any_status_with_headers() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/keys"))
        .and(no_header("authorization"))
        .and(tracking_id())
        .and(user_agent())
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("cache-control", "max-age=600")
                .insert_header("retry-after", "9999"),
        )
        .expect(1)
        .mount(webex.server())
        .await;
    let response = webex
        .client()
        .get(webex.url("/keys"))
        .send_raw()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.header("cache-control"), Some("max-age=600"));
    assert!(response.tracking_id().starts_with("byova-rs_"));
    let err = response.error_for_status().unwrap_err();
    assert!(err.is_rate_limited());
    webex.verify().await;
}

#[tokio::test]
async fn query_json_body_and_headers() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("PATCH"))
        .and(path("/things/1"))
        .and(exact_query(&[("a", "1"), ("b", "x y")]))
        .and(header("authorization", "Bearer tok"))
        .and(header("x-extra", "yes"))
        .and(header("accept", "application/json"))
        .and(json_content())
        .and(body_json(json!({"k": [1, 2]})))
        .respond_with(responses::json(json!({"done": true})))
        .expect(1)
        .mount(webex.server())
        .await;
    let value: serde_json::Value = webex
        .client()
        .request(byova_api::Method::PATCH, "things/1")
        .bearer(StaticToken::new("tok"))
        .query("a", 1)
        .query("b", "x y")
        .header(
            HeaderName::from_static("x-extra"),
            HeaderValue::from_static("yes"),
        )
        .json_body(&json!({"k": [1, 2]}))
        .json()
        .await
        .unwrap();
    assert_eq!(value, json!({"done": true}));
    webex.verify().await;
}

#[tokio::test]
async fn awaiting_the_builder_sends_it() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("DELETE"))
        .and(path("/x"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(webex.server())
        .await;
    let response = webex.client().delete("/x").await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.body().is_empty());
    webex.verify().await;
}

#[tokio::test]
async fn user_agent_suffix() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/ua"))
        .and(header(
            "user-agent",
            format!("{} my-app/1.0", byova_api::USER_AGENT).as_str(),
        ))
        .respond_with(responses::json(json!({})))
        .expect(1)
        .mount(webex.server())
        .await;
    let client = webex
        .client_builder()
        .user_agent_suffix("my-app/1.0")
        .build()
        .unwrap();
    client.get("/ua").send().await.unwrap();
    assert!(byova_api::USER_AGENT.starts_with("byova-rs/"));
    webex.verify().await;
}

#[tokio::test]
async fn the_bearer_is_never_sent_to_another_origin() {
    let webex = WebexStandIn::start().await;
    let other = WebexStandIn::start().await;
    let client = webex.client();
    let err = client
        .get(other.url("/steal"))
        .bearer(StaticToken::new("t"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_invalid_request());
    assert_eq!(
        err.to_string(),
        "invalid request: refusing to send the bearer token to a host other than the base URL's"
    );
    assert!(other.server().received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn plain_http_to_remote_hosts_is_refused() {
    let client = Client::builder()
        .base_url("http://webex.example")
        .build()
        .unwrap();
    let err = client.get("/x").send().await.unwrap_err();
    assert!(err.is_invalid_request());
    assert_eq!(
        err.to_string(),
        "invalid request: plain http is only allowed to loopback hosts (see ClientBuilder::allow_http)"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/big"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(2048)))
        .expect(1)
        .mount(webex.server())
        .await;
    let client = webex
        .client_builder()
        .max_response_bytes(1024)
        .build()
        .unwrap();
    let err = client.get("/big").send().await.unwrap_err();
    assert!(err.is_decode());
    assert_eq!(
        err.to_string(),
        "could not decode response (GET /big): length limit exceeded"
    );
    webex.verify().await;
}

#[tokio::test]
async fn the_stand_in_catches_unexpected_requests() {
    let webex = WebexStandIn::start().await;
    let response = webex
        .client()
        .post("/nobody/expects?this=1")
        .bearer(StaticToken::new("hidden-token"))
        .json_body(&json!({"a": 1}))
        .send_raw()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), UNEXPECTED_STATUS);
    assert!(
        response
            .text()
            .contains("no mock matched POST /nobody/expects?this=1")
    );
    let unexpected = webex.unexpected_requests();
    assert_eq!(unexpected.len(), 1);
    assert_eq!(unexpected[0].method, "POST");
    assert_eq!(unexpected[0].target, "/nobody/expects?this=1");
    assert_eq!(unexpected[0].body, r#"{"a":1}"#);
    assert!(
        unexpected[0]
            .headers
            .contains(&("authorization".into(), "[redacted]".into()))
    );
    // verify() and drop must now fail the test.
    let verify = tokio::spawn(async move { webex.verify().await });
    let panic = verify.await.unwrap_err().into_panic();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("1 unexpected request(s)"), "{message}");
    assert!(message.contains("POST /nobody/expects?this=1"), "{message}");
    assert!(!message.contains("hidden-token"), "{message}");
}
