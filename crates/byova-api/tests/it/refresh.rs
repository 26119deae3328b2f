//! 401 → exactly one refresh and one retry; 403 → none.

use std::sync::Arc;

use byova_api::test_util::matchers::{bearer_token, method, path};
use byova_api::test_util::{WebexStandIn, responses};
use byova_api::{BoxFuture, Error, StaticToken, TokenSource};
use byova_models::Secret;
use serde_json::json;
use wiremock::{Mock, ResponseTemplate};

use crate::support::Refreshing;

#[tokio::test]
async fn unauthorized_refreshes_once_and_retries_once() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/dataSources/ds-1"))
        .and(bearer_token("stale"))
        .respond_with(responses::error(401, "token expired", "ROUTER_401"))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(method("GET"))
        .and(path("/dataSources/ds-1"))
        .and(bearer_token("fresh"))
        .respond_with(responses::json(json!({"id": "ds-1"})))
        .expect(1)
        .mount(webex.server())
        .await;
    let source = Refreshing::new("stale", Some("fresh"));
    let ds = webex
        .client()
        .data_sources(Arc::clone(&source))
        .get("ds-1")
        .await
        .unwrap();
    assert_eq!(ds.id, "ds-1");
    assert_eq!(source.refreshes(), 1);
    assert_eq!(*source.rejected.lock().unwrap(), [Secret::new("stale")]);
    webex.verify().await;
}

#[tokio::test]
async fn a_second_unauthorized_is_returned() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("POST"))
        .and(path("/webhooks"))
        .respond_with(responses::error(401, "nope", "ROUTER_401"))
        .expect(2)
        .mount(webex.server())
        .await;
    let source = Refreshing::new("a", Some("b"));
    let err = webex
        .client()
        .webhooks(Arc::clone(&source))
        .create(&byova_models::WebhookCreate::new(
            "n",
            "https://t",
            "r",
            "e",
        ))
        .await
        .unwrap_err();
    assert!(err.is_unauthorized());
    assert_eq!(source.refreshes(), 1);
    webex.verify().await;
}

#[tokio::test]
async fn forbidden_does_not_refresh() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/dataSources/"))
        .respond_with(responses::error(403, "missing scope", "ROUTER_403"))
        .expect(1)
        .mount(webex.server())
        .await;
    let source = Refreshing::new("a", Some("b"));
    let err = webex
        .client()
        .data_sources(Arc::clone(&source))
        .list()
        .await
        .unwrap_err();
    assert!(err.is_forbidden());
    assert_eq!(source.refreshes(), 0);
    webex.verify().await;
}

#[tokio::test]
async fn sources_that_cannot_refresh_get_the_401() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(ResponseTemplate::new(401))
        .expect(2)
        .mount(webex.server())
        .await;
    let err = webex
        .client()
        .get("/thing")
        .bearer(StaticToken::new("t"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_unauthorized());
    // A source whose "refresh" returns the same token is not retried either.
    let source = Refreshing::new("same", Some("same"));
    let err = webex
        .client()
        .get("/thing")
        .bearer(Arc::clone(&source))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_unauthorized());
    assert_eq!(source.refreshes(), 1);
    webex.verify().await;
}

#[derive(Debug)]
struct Broken;

#[derive(Debug)]
struct NoTokens;

impl std::fmt::Display for NoTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("org not registered")
    }
}

impl std::error::Error for NoTokens {}

impl TokenSource for Broken {
    fn token(&self) -> BoxFuture<'_, Result<Secret, Error>> {
        Box::pin(async { Err(Error::token_source(NoTokens)) })
    }
}

#[tokio::test]
async fn token_source_failures_send_nothing() {
    let webex = WebexStandIn::start().await;
    let err = webex
        .client()
        .data_sources(Broken)
        .get("ds-1")
        .await
        .unwrap_err();
    assert!(err.is_token_source());
    assert!(err.to_string().contains("org not registered"), "{err}");
    assert!(err.into_source().unwrap().downcast::<NoTokens>().is_ok());
    assert!(webex.server().received_requests().await.unwrap().is_empty());
}
