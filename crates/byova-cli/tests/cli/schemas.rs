//! `byova schemas list|get`.

use byova::api::test_util::wiremock::Mock;
use byova::api::test_util::{WebexStandIn, matchers as m, responses};
use serde_json::{Value, json};

use crate::support::{BYOVA_SCHEMA, TOKEN, byova_at};

fn schema() -> Value {
    json!({
        "id": BYOVA_SCHEMA,
        "serviceType": "VA",
        "protocol": "gRPC",
        "appType": "BYOVA",
        "url": "https://github.com/webex/dataSourceSchemas",
        "createdAt": "2024-05-01T10:00:00Z",
    })
}

#[tokio::test]
async fn list_prints_a_table_and_json() {
    let webex = WebexStandIn::start().await;
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/schemas"))
        .and(m::exact_query(&[]))
        .and(m::bearer_token(TOKEN))
        .respond_with(responses::page(
            vec![schema(), json!({"id": "schema-2"})],
            None,
        ))
        .expect(2)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .args(["schemas", "list", "--token", TOKEN])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(
        outcome.stdout,
        format!(
            "ID                                    SERVICE TYPE  PROTOCOL  APP TYPE  URL\n\
             {BYOVA_SCHEMA}  VA            gRPC      BYOVA     https://github.com/webex/dataSourceSchemas\n\
             schema-2                              -             -         -         -\n"
        )
    );
    let outcome = byova_at(&webex)
        .args(["schemas", "list", "--token", TOKEN, "--json"])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(outcome.json(), json!([schema(), {"id": "schema-2"}]));
    webex.verify().await;
}

#[tokio::test]
async fn get_prints_fields_and_errors_exit_1() {
    let webex = WebexStandIn::start().await;
    Mock::given(m::method("GET"))
        .and(m::path(format!("/dataSources/schemas/{BYOVA_SCHEMA}")))
        .and(m::bearer_token(TOKEN))
        .respond_with(responses::json(schema()))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/schemas/nope"))
        .respond_with(responses::error(
            403,
            "Missing scope spark-admin:datasource_read",
            "ROUTER_403",
        ))
        .expect(1)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .args(["schemas", "get", BYOVA_SCHEMA, "--token", TOKEN])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(
        outcome.stdout,
        format!(
            "id:           {BYOVA_SCHEMA}\n\
             service type: VA\n\
             protocol:     gRPC\n\
             app type:     BYOVA\n\
             url:          https://github.com/webex/dataSourceSchemas\n\
             created at:   2024-05-01T10:00:00Z\n"
        )
    );
    let outcome = byova_at(&webex)
        .args(["schemas", "get", "nope", "--token", TOKEN])
        .run()
        .await;
    outcome.assert_failure();
    assert_eq!(
        outcome.stderr,
        "error: forbidden (GET /dataSources/schemas/nope): HTTP 403 Forbidden: Missing scope \
         spark-admin:datasource_read [trackingId: ROUTER_403]\n"
    );
    webex.verify().await;
}
