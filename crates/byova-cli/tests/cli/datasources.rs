//! `byova datasources …` with `--token`: exact requests, text and JSON output, errors.

use byova::api::test_util::wiremock::{Mock, Request, ResponseTemplate};
use byova::api::test_util::{WebexStandIn, matchers as m, responses};
use serde_json::{Value, json};

use crate::support::{
    BYOVA_SCHEMA, DATASOURCE_URL, JWS, ORG, TOKEN, byova_at, data_source, redacted,
};

fn get(path: &str) -> byova::api::test_util::wiremock::MockBuilder {
    Mock::given(m::method("GET"))
        .and(m::path(path.to_owned()))
        .and(m::bearer_token(TOKEN))
        .and(m::tracking_id())
}

fn is_uuid(value: &Value) -> bool {
    value.as_str().is_some_and(|text| {
        text.len() == 36
            && text.chars().enumerate().all(|(i, c)| {
                if [8, 13, 18, 23].contains(&i) {
                    c == '-'
                } else {
                    c.is_ascii_hexdigit()
                }
            })
    })
}

#[tokio::test]
async fn list_prints_an_aligned_table() {
    let webex = WebexStandIn::start().await;
    let mut second = data_source("ds-22");
    second["status"] = json!("disabled");
    second["url"] = json!("https://other.example.com");
    second
        .as_object_mut()
        .expect("object")
        .remove("tokenExpiryTime");
    get("/dataSources/")
        .and(m::exact_query(&[]))
        .respond_with(responses::page(vec![data_source("ds-1"), second], None))
        .expect(1)
        .mount(webex.server())
        .await;

    let outcome = byova_at(&webex)
        .args(["datasources", "list", "--token", TOKEN])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(
        outcome.stdout,
        format!(
            "ID     STATUS    SCHEMA                                JWS EXPIRES           URL\n\
             ds-1   active    {BYOVA_SCHEMA}  2030-01-01T00:00:00Z  {DATASOURCE_URL}\n\
             ds-22  disabled  {BYOVA_SCHEMA}  -                     https://other.example.com\n"
        )
    );
    webex.verify().await;
}

#[tokio::test]
async fn list_follows_pages_and_prints_json_without_the_jws() {
    let webex = WebexStandIn::start().await;
    let next = webex.url("/dataSources/?cursor=2");
    get("/dataSources/")
        .and(m::exact_query(&[]))
        .respond_with(responses::page(vec![data_source("ds-1")], Some(&next)))
        .expect(1)
        .mount(webex.server())
        .await;
    get("/dataSources/")
        .and(m::exact_query(&[("cursor", "2")]))
        .respond_with(responses::page(vec![data_source("ds-2")], None))
        .expect(1)
        .mount(webex.server())
        .await;

    let outcome = byova_at(&webex)
        .args(["--json", "ds", "list", "--token", TOKEN])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(
        outcome.json(),
        redacted(json!([data_source("ds-1"), data_source("ds-2")]))
    );
    assert!(!outcome.stdout.contains(JWS));
    webex.verify().await;
}

#[tokio::test]
async fn show_secrets_prints_the_exact_json() {
    let webex = WebexStandIn::start().await;
    get("/dataSources/ds-1")
        .respond_with(responses::json(data_source("ds-1")))
        .expect(1)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .env("WEBEX_ACCESS_TOKEN", TOKEN)
        .args(["datasources", "get", "ds-1", "--json", "--show-secrets"])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(outcome.json(), data_source("ds-1"));
    webex.verify().await;
}

#[tokio::test]
async fn get_prints_aligned_fields_and_hides_the_jws() {
    let webex = WebexStandIn::start().await;
    let mut body = data_source("ds-1");
    body["somethingNew"] = json!({"kept": true});
    get("/dataSources/ds-1")
        .respond_with(responses::json(body))
        .expect(1)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .args(["datasources", "get", "ds-1", "--token", TOKEN])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(
        outcome.stdout,
        format!(
            "id:             ds-1\n\
             status:         active\n\
             url:            {DATASOURCE_URL}\n\
             schema id:      {BYOVA_SCHEMA}\n\
             audience:       BYOVAGateway\n\
             subject:        callAudioData\n\
             nonce:          nonce-1\n\
             token lifetime: 1440 min\n\
             jws expires:    2030-01-01T00:00:00Z\n\
             jws token:      [redacted] (--show-secrets prints it)\n\
             org id:         {ORG}\n\
             created by:     admin@example.com\n\
             somethingNew:   {{\"kept\":true}}\n"
        )
    );
    webex.verify().await;
}

#[tokio::test]
async fn create_sends_exactly_the_registration() {
    let webex = WebexStandIn::start().await;
    Mock::given(m::method("POST"))
        .and(m::path("/dataSources"))
        .and(m::bearer_token(TOKEN))
        .and(m::json_content())
        .and(m::body_json(json!({
            "audience": "BYOVAGateway",
            "subject": "callAudioData",
            "nonce": "nonce-7",
            "schemaId": BYOVA_SCHEMA,
            "url": DATASOURCE_URL,
            "tokenLifetimeMinutes": 60,
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(data_source("ds-new")))
        .expect(1)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .args([
            "--json",
            "datasources",
            "create",
            "--url",
            DATASOURCE_URL,
            "--nonce",
            "nonce-7",
            "--token-lifetime-minutes",
            "60",
            "--token",
            TOKEN,
        ])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(outcome.json(), redacted(data_source("ds-new")));
    webex.verify().await;
}

#[tokio::test]
async fn create_defaults_to_a_fresh_uuid_nonce_and_custom_values() {
    let webex = WebexStandIn::start().await;
    Mock::given(m::method("POST"))
        .and(m::path("/dataSources"))
        .and(|request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            is_uuid(&body["nonce"])
                && body
                    == json!({
                        "audience": "aud",
                        "subject": "sub",
                        "nonce": body["nonce"],
                        "schemaId": "schema-x",
                        "url": "https://media.example.com:443",
                        "tokenLifetimeMinutes": 1440,
                    })
        })
        .respond_with(responses::json(data_source("ds-new")))
        .expect(1)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .args([
            "datasources",
            "create",
            "--url",
            "https://media.example.com:443",
            "--schema-id",
            "schema-x",
            "--audience",
            "aud",
            "--subject",
            "sub",
            "--token",
            TOKEN,
        ])
        .run()
        .await;
    outcome.assert_success();
    assert!(
        outcome.stdout.starts_with("id:             ds-new\n"),
        "{outcome:?}"
    );
    webex.verify().await;
}

#[tokio::test]
async fn update_sends_only_the_fields_given() {
    let webex = WebexStandIn::start().await;
    let mut updated = data_source("ds-1");
    updated["status"] = json!("disabled");
    updated["errorMessage"] = json!("maintenance");
    Mock::given(m::method("PUT"))
        .and(m::path("/dataSources/ds-1"))
        .and(m::bearer_token(TOKEN))
        .and(m::body_json(
            json!({"status": "disabled", "errorMessage": "maintenance"}),
        ))
        .respond_with(responses::json(updated.clone()))
        .expect(1)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .args([
            "--json",
            "datasources",
            "update",
            "ds-1",
            "--status",
            "disabled",
            "--error-message",
            "maintenance",
            "--token",
            TOKEN,
        ])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(outcome.json(), redacted(updated));
    webex.verify().await;
}

#[tokio::test]
async fn update_without_fields_sends_nothing() {
    let webex = WebexStandIn::start().await;
    let outcome = byova_at(&webex)
        .args(["datasources", "update", "ds-1", "--token", TOKEN])
        .run()
        .await;
    outcome.assert_usage();
    assert_eq!(
        outcome.stderr,
        "error: nothing to update: give at least one of --url, --schema-id, --audience, \
         --subject, --nonce, --token-lifetime-minutes, --status, --error-message\n\n\
         For more information, try '--help'.\n"
    );
    webex.verify().await;
}

#[tokio::test]
async fn renew_reads_then_puts_the_settings_with_a_fresh_nonce() {
    let webex = WebexStandIn::start().await;
    get("/dataSources/ds-1")
        .respond_with(responses::json(data_source("ds-1")))
        .expect(1)
        .mount(webex.server())
        .await;
    let mut renewed = data_source("ds-1");
    renewed["tokenExpiryTime"] = json!("2031-01-01T00:00:00Z");
    Mock::given(m::method("PUT"))
        .and(m::path("/dataSources/ds-1"))
        .and(m::bearer_token(TOKEN))
        .and(|request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            is_uuid(&body["nonce"])
                && body["nonce"] != "nonce-1"
                && body
                    == json!({
                        "audience": "BYOVAGateway",
                        "subject": "callAudioData",
                        "nonce": body["nonce"],
                        "schemaId": BYOVA_SCHEMA,
                        "url": DATASOURCE_URL,
                        "tokenLifetimeMinutes": 720,
                        "status": "active",
                    })
        })
        .respond_with(responses::json(renewed))
        .expect(1)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .args([
            "datasources",
            "renew",
            "ds-1",
            "--token-lifetime-minutes",
            "720",
            "--token",
            TOKEN,
        ])
        .run()
        .await;
    outcome.assert_success();
    assert!(
        outcome
            .stdout
            .contains("\njws expires:    2031-01-01T00:00:00Z\n"),
        "{outcome:?}"
    );
    webex.verify().await;
}

#[tokio::test]
async fn delete_reports_the_deletion() {
    let webex = WebexStandIn::start().await;
    Mock::given(m::method("DELETE"))
        .and(m::path("/dataSources/ds-1"))
        .and(m::bearer_token(TOKEN))
        .respond_with(ResponseTemplate::new(204))
        .expect(2)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .args(["datasources", "delete", "ds-1", "--token", TOKEN])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(outcome.stdout, "Deleted data source ds-1.\n");
    let outcome = byova_at(&webex)
        .args(["--json", "datasources", "delete", "ds-1", "--token", TOKEN])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(outcome.json(), json!({"id": "ds-1", "deleted": true}));
    webex.verify().await;
}

#[tokio::test]
async fn api_errors_exit_1_with_the_tracking_id_on_stderr() {
    let webex = WebexStandIn::start().await;
    get("/dataSources/ds-404")
        .respond_with(responses::error(
            404,
            "Data source not found",
            "ROUTER_4711",
        ))
        .expect(2)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .args(["datasources", "get", "ds-404", "--token", TOKEN])
        .run()
        .await;
    outcome.assert_failure();
    assert_eq!(
        outcome.stderr,
        "error: not found (GET /dataSources/ds-404): HTTP 404 Not Found: Data source not found \
         [trackingId: ROUTER_4711]\n"
    );

    let outcome = byova_at(&webex)
        .args(["datasources", "get", "ds-404", "--token", TOKEN, "--json"])
        .run()
        .await;
    outcome.assert_failure();
    let error = outcome.error_json();
    assert_eq!(error["error"]["kind"], "not_found");
    assert_eq!(error["error"]["status"], 404);
    assert_eq!(error["error"]["trackingId"], "ROUTER_4711");
    webex.verify().await;
}

#[tokio::test]
async fn a_rejected_bearer_is_not_retried_and_never_printed() {
    let webex = WebexStandIn::start().await;
    get("/dataSources/")
        .respond_with(responses::error(
            401,
            "The request requires a valid access token",
            "ROUTER_401",
        ))
        .expect(1)
        .mount(webex.server())
        .await;
    let outcome = byova_at(&webex)
        .args(["datasources", "list", "--token", TOKEN, "-vvv"])
        .run()
        .await;
    assert_eq!(outcome.code, 1, "{outcome:?}");
    assert!(
        outcome.stderr.contains("[trackingId: ROUTER_401]"),
        "{outcome:?}"
    );
    assert!(
        !outcome.stderr.contains(TOKEN),
        "the bearer leaked: {outcome:?}"
    );
    webex.verify().await;
}
