//! `verify_jws` with key sets served by the stand-in, as an identity broker would.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use byova::ErrorKind;
use byova::api::test_util::{matchers as m, responses, wiremock::Mock};
use byova::jws::{BYOVA_SCHEMA_UUID, Jwk, JwkSet};
use josekit::jws::{JwsHeader, RS256};
use josekit::jwt::{self, JwtPayload};
use serde_json::Value;

use crate::support::Env;

const DATASOURCE_URL: &str = "https://va.example.com/byova";

fn private_key() -> &'static Jwk {
    static KEY: OnceLock<Jwk> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut key = Jwk::generate_rsa_key(2048).expect("RSA key");
        key.set_key_id("key-1");
        key
    })
}

fn key_set() -> Value {
    let mut public = private_key().to_public_key().expect("public key");
    public.set_key_id("key-1");
    let mut set = JwkSet::new();
    set.push_key(public);
    serde_json::to_value(set.as_ref()).expect("jwks")
}

fn token(issuer: &str, datasource_url: &str) -> String {
    let mut header = JwsHeader::new();
    header.set_key_id("key-1");
    let mut payload = JwtPayload::new();
    payload.set_issuer(issuer);
    payload.set_audience(vec!["BYOVAGateway"]);
    payload.set_subject("callAudioData");
    payload.set_jwt_id("jti-1");
    payload.set_expires_at(&(SystemTime::now() + Duration::from_secs(3600)));
    payload
        .set_claim("com.cisco.datasource.url", Some(datasource_url.into()))
        .expect("claim");
    payload
        .set_claim(
            "com.cisco.datasource.schema.uuid",
            Some(BYOVA_SCHEMA_UUID.into()),
        )
        .expect("claim");
    let signer = RS256.signer_from_jwk(private_key()).expect("signer");
    jwt::encode_with_signer(&payload, &header, &signer).expect("token")
}

#[tokio::test]
async fn tokens_of_an_added_issuer_verify_and_mismatches_are_typed() {
    let env = Env::start().await;
    let issuer = env.webex.url("/idb");
    Mock::given(m::method("GET"))
        .and(m::path("/idb/oauth2/v2/keys/verificationjwk"))
        .and(m::no_header("authorization"))
        .respond_with(responses::json(key_set()))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let byova = env
        .builder()
        .datasource_url(DATASOURCE_URL)
        .jws_issuer(issuer.as_str())
        .jws_audience("BYOVAGateway")
        .build()
        .expect("facade");
    assert_eq!(byova.datasource_url(), Some(DATASOURCE_URL));

    let claims = byova
        .verify_jws(&token(&issuer, DATASOURCE_URL))
        .await
        .expect("valid");
    assert_eq!(claims.issuer(), issuer);
    assert_eq!(claims.subject(), "callAudioData");
    assert_eq!(claims.datasource_url(), DATASOURCE_URL);

    // Minted for another data source: refused, naming the claim (the key set is cached).
    let error = byova
        .verify_jws(&token(&issuer, "https://elsewhere.example.com/byova"))
        .await
        .expect_err("other data source");
    assert_eq!(error.kind(), &ErrorKind::Jws);
    assert_eq!(
        error.jws_error().expect("jws").kind(),
        byova::jws::ErrorKind::ClaimMismatch(byova::jws::Claim::DataSourceUrl)
    );
    assert!(
        error
            .to_string()
            .starts_with("JWS verification failed: claim mismatch"),
        "{error}"
    );

    let error = byova.verify_jws("not.a.jws").await.expect_err("garbage");
    assert!(error.jws_error().expect("jws").is_malformed(), "{error}");
    env.webex.verify().await;
}

#[tokio::test]
async fn issuers_outside_the_region_are_refused_without_a_fetch() {
    let env = Env::start().await;
    let byova = env
        .builder()
        .datasource_url(DATASOURCE_URL)
        .region(byova::jws::Region::Eu)
        .build()
        .expect("facade");
    let error = byova
        .verify_jws(&token("https://idbroker.webex.com/idb", DATASOURCE_URL))
        .await
        .expect_err("US issuer with an EU region");
    assert!(
        error.jws_error().expect("jws").is_unknown_issuer(),
        "{error}"
    );
    env.webex.verify().await;
}

#[tokio::test]
async fn a_bad_datasource_url_is_a_config_error_at_build_time() {
    let env = Env::start().await;
    let error = env
        .builder()
        .datasource_url("not a url")
        .build()
        .expect_err("bad url");
    assert_eq!(error.kind(), &ErrorKind::Config);
    assert!(error.is_config());
    assert!(error.to_string().contains("not a URL"), "{error}");
}
