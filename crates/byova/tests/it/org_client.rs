//! `client_for_org`: registered orgs get their Service App bearer, others a typed error.

use byova::ErrorKind;
use byova::api::test_util::{matchers as m, responses, wiremock::Mock};
use serde_json::json;

use crate::support::{Env, ORG, org};

#[tokio::test]
async fn a_registered_org_lists_its_data_sources_with_its_own_bearer() {
    let env = Env::start().await;
    env.register_org().await;
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/"))
        .and(m::exact_query(&[]))
        .and(m::bearer_token("sa-access"))
        .and(m::tracking_id())
        .respond_with(responses::page(
            vec![json!({"id": "ds-1", "url": "https://va.example.com/byova", "status": "active"})],
            None,
        ))
        .expect(1)
        .mount(env.webex.server())
        .await;

    let byova = env.byova();
    let org_client = byova.client_for_org(&org()).await.expect("registered");
    assert_eq!(org_client.org(), &org());
    let listed = org_client.data_sources().list().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, "ds-1");
    env.webex.verify().await;
}

#[tokio::test]
async fn an_unknown_org_is_a_typed_error_and_nothing_is_sent() {
    let env = Env::start().await;
    let error = env
        .byova()
        .client_for_org(&org())
        .await
        .expect_err("unknown org");
    assert_eq!(
        error.kind(),
        &ErrorKind::OrgNotRegistered {
            org_id: ORG.to_owned()
        }
    );
    assert!(error.is_org_not_registered());
    assert!(
        error
            .to_string()
            .starts_with(&format!("org {ORG} has no Service App registration"))
    );
    assert_eq!(error.tracking_id(), None);
    env.webex.verify().await;
}

#[tokio::test]
async fn api_failures_keep_the_webex_tracking_id() {
    let env = Env::start().await;
    env.register_org().await;
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/ds-404"))
        .and(m::bearer_token("sa-access"))
        .respond_with(responses::error(
            404,
            "Data source not found",
            "ROUTER_4711",
        ))
        .expect(1)
        .mount(env.webex.server())
        .await;

    let byova = env.byova();
    let org_client = byova.client_for_org(&org()).await.expect("registered");
    let error: byova::Error = org_client
        .data_sources()
        .get("ds-404")
        .await
        .expect_err("404")
        .into();
    assert_eq!(error.kind(), &ErrorKind::Api);
    assert_eq!(error.tracking_id(), Some("ROUTER_4711"));
    assert!(error.api_error().expect("api error").is_not_found());
    let shown = error.to_string();
    assert!(shown.contains("Data source not found"), "{shown}");
    assert!(shown.contains("[trackingId: ROUTER_4711]"), "{shown}");
    env.webex.verify().await;
}

#[tokio::test]
async fn webhooks_use_the_integration_bearer() {
    let env = Env::start().await;
    env.authorize_integration().await;
    Mock::given(m::method("GET"))
        .and(m::path("/webhooks/hook-1"))
        .and(m::bearer_token("int-access"))
        .respond_with(responses::json(
            json!({"id": "hook-1", "resource": "serviceApp"}),
        ))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let hook = env.byova().webhooks().get("hook-1").await.expect("get");
    assert_eq!(hook.resource.as_deref(), Some("serviceApp"));
    env.webex.verify().await;
}

#[tokio::test]
async fn without_integration_tokens_the_error_says_to_log_in() {
    let env = Env::start().await;
    let error: byova::Error = env
        .byova()
        .webhooks()
        .get("hook-1")
        .await
        .expect_err("not authorized")
        .into();
    assert_eq!(error.kind(), &ErrorKind::Auth);
    assert!(error.auth_error().expect("auth error").is_not_authorized());
    assert!(error.to_string().contains("byova auth login"), "{error}");
    env.webex.verify().await;
}

#[tokio::test]
async fn the_authorization_url_follows_the_base_url() {
    let env = Env::start().await;
    let byova = env.byova();
    let request = byova
        .integration()
        .authorization_request()
        .expect("request")
        .build()
        .expect("build");
    let url = request.url().as_str();
    assert!(
        url.starts_with(&format!(
            "{}/authorize?client_id=int-client&",
            env.webex.uri()
        )),
        "{url}"
    );
}

#[tokio::test]
async fn debug_output_holds_no_secret() {
    let env = Env::start().await;
    let byova = env
        .builder()
        .webhook_secret("hmac-secret-value")
        .build()
        .expect("facade");
    let debug = format!("{byova:?}");
    for secret in ["int-secret-value", "sa-secret-value", "hmac-secret-value"] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
    assert!(debug.contains("webhook_signatures: true"), "{debug}");
}
