//! `/dataSources/schemas`.

use byova_api::StaticToken;
use byova_api::test_util::matchers::{
    bearer_token, exact_query, method, path, tracking_id, user_agent,
};
use byova_api::test_util::{WebexStandIn, responses};
use serde_json::json;
use wiremock::Mock;

#[tokio::test]
async fn list_and_get() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/dataSources/schemas"))
        .and(exact_query(&[]))
        .and(bearer_token("sa-token"))
        .and(tracking_id())
        .and(user_agent())
        .respond_with(responses::page(
            vec![json!({"id": "5397013b-7920-4ffc-807c-e8a3e0a18f43", "protocol": "GRPC", "serviceType": "VA"})],
            None,
        ))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/dataSources/schemas/5397013b-7920-4ffc-807c-e8a3e0a18f43",
        ))
        .and(exact_query(&[]))
        .and(bearer_token("sa-token"))
        .and(tracking_id())
        .respond_with(responses::json(
            json!({"id": "5397013b-7920-4ffc-807c-e8a3e0a18f43", "appType": "VA"}),
        ))
        .expect(1)
        .mount(webex.server())
        .await;

    let schemas = webex.client().schemas(StaticToken::new("sa-token"));
    let all = schemas.list().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].protocol.as_deref(), Some("GRPC"));
    let one = schemas.get(byova_models::BYOVA_SCHEMA_ID).await.unwrap();
    assert_eq!(one.app_type.as_deref(), Some("VA"));
    webex.verify().await;
}
