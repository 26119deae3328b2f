//! The `byods_and_media` flow across the crates: the keeper (byova-auth) registers or renews the
//! data source on the Webex stand-in (byova-api), which mints its JWS; the media server
//! (byova-media) built by the facade (byova) verifies every call's JWS with byova-jws against
//! the stand-in's identity broker, and the agent sees the verified claims.

use byova::api::test_util::wiremock::{Mock, Request};
use byova::api::test_util::{matchers as m, responses};
use byova::auth::keeper::KeeperConfig;
use byova::media::client::TurnResult;
use serde_json::Value;

use crate::support::{
    BYOVA_SCHEMA, DATASOURCE_URL, Env, Media, ORG, Verified, data_source, mint, org, rfc3339_in,
};

/// gRPC UNAUTHENTICATED.
const UNAUTHENTICATED: i32 = 16;

fn code(result: &TurnResult) -> i32 {
    i32::from(result.code())
}

/// The keeper's body: the configured settings with a fresh nonce.
fn is_keeper_body(request: &Request) -> bool {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
    body["url"] == DATASOURCE_URL
        && body["schemaId"] == BYOVA_SCHEMA
        && body["audience"] == "BYOVAGateway"
        && body["subject"] == "callAudioData"
        && body["tokenLifetimeMinutes"] == 1440
        && body["nonce"]
            .as_str()
            .is_some_and(|nonce| nonce.len() == 36)
}

fn verified(conversation_id: &str, jti: &str) -> Option<Verified> {
    Some(Verified {
        conversation_id: conversation_id.to_owned(),
        jti: jti.to_owned(),
        subject: "callAudioData".to_owned(),
        datasource_url: DATASOURCE_URL.to_owned(),
        org: Some(ORG.to_owned()),
    })
}

#[tokio::test]
async fn the_keeper_registers_the_data_source_and_calls_with_its_jws_get_through() {
    let env = Env::start().await;
    let jws = env.mint("jws-registered", 86_400);
    // No data source yet: the keeper registers one, and Webex mints its JWS.
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/"))
        .and(m::bearer_token("sa-access"))
        .respond_with(responses::page(vec![], None))
        .expect(1)
        .mount(env.webex.server())
        .await;
    Mock::given(m::method("POST"))
        .and(m::path("/dataSources"))
        .and(m::bearer_token("sa-access"))
        .and(is_keeper_body)
        .respond_with(responses::json(data_source(
            "ds-1",
            &jws,
            &rfc3339_in(86_400),
        )))
        .expect(1)
        .mount(env.webex.server())
        .await;

    let byova = env.builder().build().expect("facade");
    let keeper = byova
        .keep_data_source(&org(), KeeperConfig::new(DATASOURCE_URL))
        .await
        .expect("registered");
    assert_eq!(keeper.state().data_source.id, "ds-1");
    assert_eq!(keeper.jws().expose(), jws);
    let mut media = Media::start(&byova).await;

    // Webex calls with the data source's JWS: verified, the agent sees the claims.
    let webex = media
        .caller
        .clone()
        .with_token(keeper.jws().expose())
        .expect("metadata");
    let greeting = webex
        .call("call-1")
        .session_start("", Default::default())
        .await;
    assert!(greeting.is_ok(), "{:?}", greeting.status);
    assert_eq!(
        greeting.last().unwrap().response.prompts[0].text,
        "Verified."
    );
    assert_eq!(
        media.next_seen().await,
        verified("call-1", "jws-registered")
    );
    let agents = webex.list_virtual_agents(ORG).await.expect("listed");
    assert_eq!(agents.len(), 1, "{agents:?}");
    assert_eq!(agents[0].virtual_agent_id, "bot");

    // Without a token, with one for another data source, expired, or forged: refused before the
    // agent runs, and the refusal never echoes the token.
    let anonymous = media
        .caller
        .call("call-2")
        .session_start("", Default::default())
        .await;
    assert_eq!(code(&anonymous), UNAUTHENTICATED, "{:?}", anonymous.status);
    let listed = media.caller.list_virtual_agents(ORG).await.unwrap_err();
    assert_eq!(i32::from(listed.code()), UNAUTHENTICATED);
    let forged = {
        let mut parts: Vec<&str> = jws.split('.').collect();
        let other = env.mint("jws-other", 86_400);
        let signature = other.rsplit('.').next().expect("a signature").to_owned();
        parts[2] = &signature;
        parts.join(".")
    };
    for (name, token) in [
        (
            "another data source",
            mint(&env.issuer, "https://other.example.com/byova", "x", 3600),
        ),
        ("expired", env.mint("jws-expired", -3600)),
        ("forged", forged),
        (
            "an issuer that is not allowed",
            mint(
                "https://idbroker.evil.example/idb",
                DATASOURCE_URL,
                "x",
                3600,
            ),
        ),
    ] {
        let caller = media.caller.clone().with_token(&token).expect("metadata");
        let result = caller
            .call(format!("call-{name}"))
            .session_start("", Default::default())
            .await;
        assert_eq!(
            code(&result),
            UNAUTHENTICATED,
            "{name}: {:?}",
            result.status
        );
        assert!(result.responses.is_empty(), "{name}");
        assert!(
            !result.status.message().contains(&token),
            "{name}: the status echoes the token"
        );
    }
    assert_eq!(
        media.server.live_calls(),
        1,
        "only the verified call exists"
    );

    media.server.shutdown().await.expect("shutdown");
    keeper.stop().await.expect("keeper stopped");
    env.webex.verify().await;
}

#[tokio::test]
async fn after_a_renewal_calls_with_the_new_and_the_still_valid_old_jws_get_through() {
    let env = Env::start().await;
    // The data source exists; its JWS expires within the keeper's renewal lead (1 hour).
    let old = env.mint("jws-old", 1_800);
    let new = env.mint("jws-new", 86_400);
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/"))
        .and(m::bearer_token("sa-access"))
        .respond_with(responses::page(
            vec![data_source("ds-kept", &old, &rfc3339_in(1_800))],
            None,
        ))
        .expect(1)
        .mount(env.webex.server())
        .await;
    // So the keeper renews it at once: a PUT with a fresh nonce; Webex mints a new JWS.
    Mock::given(m::method("PUT"))
        .and(m::path("/dataSources/ds-kept"))
        .and(m::bearer_token("sa-access"))
        .and(|request: &Request| {
            is_keeper_body(request)
                && serde_json::from_slice::<Value>(&request.body)
                    .is_ok_and(|body| body["status"] == "active")
        })
        .respond_with(responses::json(data_source(
            "ds-kept",
            &new,
            &rfc3339_in(86_400),
        )))
        .expect(1)
        .mount(env.webex.server())
        .await;

    let byova = env.builder().build().expect("facade");
    let keeper = byova
        .keep_data_source(&org(), KeeperConfig::new(DATASOURCE_URL))
        .await
        .expect("adopted and renewed");
    assert_eq!(keeper.jws().expose(), new);
    let mut media = Media::start(&byova).await;

    // Webex switches to the new JWS; calls still carrying the old one (valid for another half
    // hour) are not cut off.
    for (conversation, token, jti) in [("call-new", &new, "jws-new"), ("call-old", &old, "jws-old")]
    {
        let caller = media.caller.clone().with_token(token).expect("metadata");
        let greeting = caller
            .call(conversation)
            .session_start("", Default::default())
            .await;
        assert!(greeting.is_ok(), "{conversation}: {:?}", greeting.status);
        assert_eq!(media.next_seen().await, verified(conversation, jti));
    }

    media.server.shutdown().await.expect("shutdown");
    keeper.stop().await.expect("keeper stopped");
    env.webex.verify().await;
}
