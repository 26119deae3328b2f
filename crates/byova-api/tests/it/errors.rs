//! Status → error kind, Webex error bodies in `Display`, no secrets anywhere.

use byova_api::test_util::matchers::{method, path};
use byova_api::test_util::{WebexStandIn, responses};
use byova_api::{ApiErrorBody, ErrorKind, StaticToken, StatusCode};
use byova_models::Secret;
use serde_json::json;
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn webex_error_body_is_shown_with_its_tracking_id() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/dataSources/missing"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "message": "Data source not found",
            "errors": [{"description": "No data source with id missing"}],
            "trackingId": "ROUTER_5F3A"
        })))
        .expect(1)
        .mount(webex.server())
        .await;
    let err = webex
        .client()
        .data_sources(StaticToken::new("t"))
        .get("missing")
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(err.tracking_id(), Some("ROUTER_5F3A"));
    let api = err.api().unwrap();
    assert_eq!(api.message(), Some("Data source not found"));
    assert_eq!(
        api.errors(),
        [json!({"description": "No data source with id missing"})]
    );
    assert_eq!(
        err.to_string(),
        "not found (GET /dataSources/missing): HTTP 404 Not Found: Data source not found \
         (errors: No data source with id missing) [trackingId: ROUTER_5F3A]"
    );
    webex.verify().await;
}

#[tokio::test]
async fn statuses_map_to_kinds() {
    let cases = [
        (400, ErrorKind::Validation),
        (409, ErrorKind::Validation),
        (415, ErrorKind::Validation),
        (401, ErrorKind::Unauthorized),
        (403, ErrorKind::Forbidden),
        (404, ErrorKind::NotFound),
        (405, ErrorKind::OtherStatus),
        (410, ErrorKind::OtherStatus),
        (302, ErrorKind::OtherStatus),
        (500, ErrorKind::Server),
        (501, ErrorKind::Server),
    ];
    let webex = WebexStandIn::start().await;
    for (status, _) in cases {
        Mock::given(method("POST"))
            .and(path(format!("/status/{status}")))
            .respond_with(ResponseTemplate::new(status))
            .expect(1)
            .mount(webex.server())
            .await;
    }
    let client = webex.client();
    for (status, kind) in cases {
        let err = client
            .post(format!("/status/{status}"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{status}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
    }
    webex.verify().await;
}

#[tokio::test]
async fn text_bodies_and_header_tracking_ids() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("POST"))
        .and(path("/text"))
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("trackingid", "ROUTER_HDR")
                .set_body_string("<html>upstream exploded</html>"),
        )
        .expect(1)
        .mount(webex.server())
        .await;
    let err = webex.client().post("/text").send().await.unwrap_err();
    assert!(err.is_server());
    assert_eq!(err.tracking_id(), Some("ROUTER_HDR"));
    assert_eq!(
        err.api().unwrap().body(),
        &ApiErrorBody::Text("<html>upstream exploded</html>".into())
    );
    let shown = err.to_string();
    assert!(
        shown.contains("HTTP 500 Internal Server Error: <html>upstream exploded</html>"),
        "{shown}"
    );
    assert!(shown.contains("ROUTER_HDR"), "{shown}");
    webex.verify().await;
}

#[tokio::test]
async fn without_any_tracking_id_ours_is_reported() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("POST"))
        .and(path("/bare"))
        .respond_with(ResponseTemplate::new(409))
        .expect(1)
        .mount(webex.server())
        .await;
    let err = webex.client().post("/bare").send().await.unwrap_err();
    let sent = webex.server().received_requests().await.unwrap()[0].headers["trackingid"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(err.tracking_id(), Some(sent.as_str()));
    assert!(err.is_validation());
    webex.verify().await;
}

#[tokio::test]
async fn secrets_never_appear_in_errors() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/dataSources/"))
        // The items are a string holding a "secret": serde would quote it in its message.
        .respond_with(responses::json(json!({"items": "eyJSECRET-JWS-VALUE"})))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(method("POST"))
        .and(path("/access_token"))
        .respond_with(responses::error(400, "invalid_grant", "ROUTER_G"))
        .expect(1)
        .mount(webex.server())
        .await;
    let client = webex.client();
    let decode = client
        .data_sources(StaticToken::new("BEARER-SECRET-VALUE"))
        .list()
        .await
        .unwrap_err();
    assert!(decode.is_decode());
    let grant = client
        .oauth()
        .refresh(
            "cid",
            &Secret::new("CLIENT-SECRET-VALUE"),
            &Secret::new("REFRESH-SECRET-VALUE"),
        )
        .await
        .unwrap_err();
    assert!(grant.is_validation());
    for err in [decode, grant] {
        for shown in [err.to_string(), format!("{err:?}"), format!("{err:#?}")] {
            for secret in [
                "eyJSECRET",
                "BEARER-SECRET",
                "CLIENT-SECRET",
                "REFRESH-SECRET",
            ] {
                assert!(!shown.contains(secret), "{secret} leaked: {shown}");
            }
        }
    }
    webex.verify().await;
}
