//! A slow server gives a timeout error.

use std::time::Duration;

use byova_api::ErrorKind;
use byova_api::test_util::matchers::{method, path};
use byova_api::test_util::{WebexStandIn, responses};
use serde_json::json;
use wiremock::Mock;

#[tokio::test]
async fn slow_server_times_out() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/slow"))
        .respond_with(responses::json(json!({})).set_delay(Duration::from_secs(60)))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(method("GET"))
        .and(path("/fast"))
        .respond_with(responses::json(json!({})))
        .expect(1)
        .mount(webex.server())
        .await;
    let client = webex
        .client_builder()
        .timeout(Some(Duration::from_millis(500)))
        .build()
        .unwrap();

    let err = client.get("/slow").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.is_timeout());
    assert_eq!(
        err.to_string(),
        "request timed out (GET /slow): no response within 500ms"
    );
    // The same client still works (and a timeout is not retried: one request reached /slow).
    client.get("/fast").send().await.unwrap();
    webex.verify().await;
}

#[tokio::test]
async fn a_request_can_override_the_timeout() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/slow"))
        .respond_with(responses::json(json!({})).set_delay(Duration::from_secs(60)))
        .expect(1)
        .mount(webex.server())
        .await;
    let err = webex
        .client()
        .get("/slow")
        .timeout(Some(Duration::from_millis(300)))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(
        err.to_string(),
        "request timed out (GET /slow): no response within 300ms"
    );
    webex.verify().await;
}
