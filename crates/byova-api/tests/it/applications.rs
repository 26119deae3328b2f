//! `POST /applications/{id}/token`.

use byova_api::StaticToken;
use byova_api::test_util::matchers::{
    bearer_token, body_string, exact_query, json_content, method, path, tracking_id, user_agent,
};
use byova_api::test_util::{WebexStandIn, responses};
use byova_models::{OrgId, ServiceAppCredentials, derive_application_id};
use serde_json::json;
use time::OffsetDateTime;
use wiremock::Mock;

#[tokio::test]
async fn mints_service_app_tokens_with_the_integration_bearer() {
    let webex = WebexStandIn::start().await;
    let app_id = derive_application_id("sa-id");
    Mock::given(method("POST"))
        .and(path(format!("/applications/{app_id}/token")))
        .and(exact_query(&[]))
        .and(bearer_token("integration-access"))
        .and(json_content())
        .and(tracking_id())
        .and(user_agent())
        .and(body_string(
            r#"{"clientId":"sa-id","clientSecret":"sa-secret","targetOrgId":"63b02f90-0be4-4b43-9e78-cad425ac554c"}"#,
        ))
        .respond_with(responses::json(json!({
            "access_token": "sa-access", "expires_in": 1209599, "token_type": "Bearer",
            "refresh_token": "sa-refresh", "refresh_token_expires_in": 7775999
        })))
        .expect(1)
        .mount(webex.server())
        .await;

    let creds = ServiceAppCredentials::new("sa-id", "sa-secret");
    let org: OrgId = "63b02f90-0be4-4b43-9e78-cad425ac554c".parse().unwrap();
    let before = OffsetDateTime::now_utc();
    let tokens = webex
        .client()
        .applications(StaticToken::new("integration-access"))
        .service_app_token(&creds.application_id(), &creds, &org)
        .await
        .unwrap();
    let after = OffsetDateTime::now_utc();
    assert_eq!(tokens.access_token.expose(), "sa-access");
    assert_eq!(
        tokens.refresh_token.as_ref().map(|t| t.expose()),
        Some("sa-refresh")
    );
    assert_eq!(tokens.expires_in, 1_209_599);
    assert_eq!(tokens.refresh_token_expires_in, Some(7_775_999));
    assert!(before <= tokens.obtained_at && tokens.obtained_at <= after);
    webex.verify().await;
}
