//! Valid tokens: accepted, claims exposed, remembered until `exp`, configured values enforced.

use byova_jws::{BYOVA_SCHEMA_UUID, Claim, ErrorKind, Region, Verifier};
use serde_json::json;

use crate::support::{
    DATASOURCE_URL, KeyServer, TokenSpec, builder_for, jwk_set, keys, verifier_for,
};

#[tokio::test]
async fn a_webex_shaped_token_is_accepted_with_its_claims() {
    let server = KeyServer::with_keys(&[&keys().a]).await;
    let verifier = verifier_for(&server.issuer());
    let spec = TokenSpec::valid(&server.issuer());
    let claims = verifier.verify(&spec.sign()).await.expect("valid token");

    assert_eq!(claims.issuer(), server.issuer());
    assert_eq!(claims.audience(), ["BYOVAGateway"]);
    assert_eq!(claims.subject(), "callAudioData");
    assert_eq!(claims.jwt_id(), spec.claims["jti"]);
    assert_eq!(claims.expires_at().unix_timestamp(), spec.claims["exp"]);
    assert_eq!(
        claims.issued_at().map(|at| at.unix_timestamp()),
        spec.claims["iat"].as_i64()
    );
    assert_eq!(claims.not_before(), None);
    assert_eq!(claims.datasource_url(), DATASOURCE_URL);
    assert_eq!(claims.schema_uuid(), BYOVA_SCHEMA_UUID);
    assert_eq!(
        claims.get("com.cisco.datasource.orgid"),
        Some(&json!("1eb65fdf-9643-417f-9974-ad72cae0e10f"))
    );
    // JSON output is the complete payload, as the CLI prints it.
    assert_eq!(
        serde_json::to_value(&claims).expect("json"),
        serde_json::Value::Object(spec.claims.clone())
    );
    assert_eq!(server.fetches(), 1);
}

#[tokio::test]
async fn a_verified_token_is_answered_from_the_cache_until_exp() {
    let server = KeyServer::with_keys(&[&keys().a]).await;
    let verifier = verifier_for(&server.issuer());
    let token = TokenSpec::valid(&server.issuer()).sign();
    assert!(verifier.cached(&token).is_none());
    let first = verifier.verify(&token).await.expect("valid");
    let cached = verifier.cached(&token).expect("remembered");
    assert_eq!(cached, first);
    assert_eq!(verifier.verify(&token).await.expect("valid"), first);
    // A clone shares the cache.
    assert!(verifier.clone().cached(&token).is_some());
    // Another token is not confused with it.
    assert!(
        verifier
            .cached(&TokenSpec::valid(&server.issuer()).sign())
            .is_none()
    );

    let uncached = builder_for(&server.issuer())
        .token_cache_capacity(0)
        .build()
        .expect("verifier");
    uncached.verify(&token).await.expect("valid");
    assert!(uncached.cached(&token).is_none());
}

#[tokio::test]
async fn configured_audience_subject_and_jti_must_match() {
    let server = KeyServer::with_keys(&[&keys().a]).await;
    let verifier = builder_for(&server.issuer())
        .audience("BYOVAGateway")
        .subject("callAudioData")
        .jwt_id("jti-fixed")
        .build()
        .expect("verifier");
    let spec = TokenSpec::valid(&server.issuer()).claim("jti", "jti-fixed");
    verifier
        .verify(&spec.sign())
        .await
        .expect("matching claims");
    let list = spec.clone().claim("aud", json!(["Other", "BYOVAGateway"]));
    verifier
        .verify(&list.sign())
        .await
        .expect("aud list containing ours");

    for (name, claim) in [
        ("aud", Claim::Aud),
        ("sub", Claim::Sub),
        ("jti", Claim::Jti),
    ] {
        let token = spec.clone().claim(name, "NemotronVoiceAgent").sign();
        let err = verifier.verify(&token).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ClaimMismatch(claim), "{err}");
        assert!(err.detail().contains("got \"NemotronVoiceAgent\""), "{err}");
    }
}

#[tokio::test]
async fn a_custom_schema_replaces_the_byova_default() {
    let server = KeyServer::with_keys(&[&keys().a]).await;
    let schema = "7a2c9d4e-1111-4222-8333-944455556666";
    let verifier = builder_for(&server.issuer())
        .schema_uuid(schema)
        .build()
        .expect("verifier");
    let byova = TokenSpec::valid(&server.issuer()).sign();
    let err = verifier.verify(&byova).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ClaimMismatch(Claim::SchemaUuid));
    let custom = TokenSpec::valid(&server.issuer())
        .claim("com.cisco.datasource.schema.uuid", schema)
        .sign();
    verifier.verify(&custom).await.expect("custom schema");
}

#[tokio::test]
async fn a_static_key_set_needs_no_server() {
    let issuer = "https://idbroker-eu.webex.com/idb";
    let verifier = Verifier::builder(DATASOURCE_URL)
        .region(Region::Eu)
        .static_key_set(issuer, jwk_set(&[&keys().a]))
        .build()
        .expect("verifier");
    assert_eq!(verifier.issuers(), [issuer]);
    verifier
        .verify(&TokenSpec::valid(issuer).sign())
        .await
        .expect("valid");
    // A pinned set is never refetched: an unknown kid is simply unknown.
    let err = verifier
        .verify(&TokenSpec::valid(issuer).key(&keys().b).sign())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownKey);
}

#[test]
fn regions_select_the_webex_issuers() {
    let all = Verifier::builder(DATASOURCE_URL).build().expect("verifier");
    assert_eq!(
        all.issuers(),
        [
            "https://idbroker-b-us.webex.com/idb",
            "https://idbroker-ca.webex.com/idb",
            "https://idbroker-eu.webex.com/idb",
            "https://idbroker.webex.com/idb",
            "https://idbrokerbts-eu.webex.com/idb",
            "https://idbrokerbts.webex.com/idb",
        ]
    );
    let us = Verifier::builder(DATASOURCE_URL)
        .region(Region::Us)
        .build()
        .expect("verifier");
    assert_eq!(
        us.issuers(),
        [
            "https://idbroker-b-us.webex.com/idb",
            "https://idbroker.webex.com/idb"
        ]
    );
    let eu_and_private = Verifier::builder(DATASOURCE_URL)
        .region("eu".parse().expect("region"))
        .issuer("https://idbroker.private.example/idb")
        .build()
        .expect("verifier");
    assert_eq!(
        eu_and_private.issuers(),
        [
            "https://idbroker-eu.webex.com/idb",
            "https://idbroker.private.example/idb"
        ]
    );
}

#[test]
fn invalid_configurations_are_refused() {
    for builder in [
        Verifier::builder(""),
        Verifier::builder("byova.example.com/va"),
        Verifier::builder("ftp://byova.example.com/va"),
        Verifier::builder(DATASOURCE_URL).schema_uuid(" "),
        Verifier::builder(DATASOURCE_URL).algorithms([]),
        Verifier::builder(DATASOURCE_URL).max_token_size(0),
        Verifier::builder(DATASOURCE_URL).audience(""),
        Verifier::builder(DATASOURCE_URL).issuer("https://idbroker.example/idb/"),
        Verifier::builder(DATASOURCE_URL).issuer("idbroker.example"),
    ] {
        let debug = format!("{builder:?}");
        let err = builder.build().expect_err(&debug);
        assert_eq!(err.kind(), ErrorKind::Config, "{debug}: {err}");
    }
}
