//! `byova jws verify` against a loopback identity broker (the stand-in serves the key set).

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use byova::api::test_util::wiremock::Mock;
use byova::api::test_util::{WebexStandIn, matchers as m, responses};
use byova::jws::{BYOVA_SCHEMA_UUID, Jwk, JwkSet};
use josekit::jws::{JwsHeader, RS256};
use josekit::jwt::{self, JwtPayload};
use serde_json::{Value, json};

use crate::support::{DATASOURCE_URL, byova, byova_at};

const KEYS_PATH: &str = "/idb/oauth2/v2/keys/verificationjwk";

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

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// The claims of a token as Webex mints it.
fn claims(issuer: &str, datasource_url: &str) -> Value {
    json!({
        "iss": issuer,
        "aud": "BYOVAGateway",
        "sub": "callAudioData",
        "jti": "jti-1",
        "exp": now() + 3600,
        "com.cisco.datasource.url": datasource_url,
        "com.cisco.datasource.schema.uuid": BYOVA_SCHEMA_UUID,
        "com.cisco.datasource.orgid": "1eb65fdf-9643-417f-9974-ad72cae0e10f",
    })
}

fn sign(claims: &Value) -> String {
    let mut header = JwsHeader::new();
    header.set_key_id("key-1");
    let Value::Object(map) = claims.clone() else {
        panic!("claims are an object")
    };
    let payload = JwtPayload::from_map(map).expect("payload");
    let signer = RS256.signer_from_jwk(private_key()).expect("signer");
    jwt::encode_with_signer(&payload, &header, &signer).expect("token")
}

async fn broker(webex: &WebexStandIn, fetches: u64) {
    Mock::given(m::method("GET"))
        .and(m::path(KEYS_PATH))
        .and(m::no_header("authorization"))
        .respond_with(responses::json(key_set()))
        .expect(fetches)
        .mount(webex.server())
        .await;
}

#[tokio::test]
async fn a_valid_token_prints_its_claims_as_json() {
    let webex = WebexStandIn::start().await;
    broker(&webex, 2).await;
    let issuer = webex.url("/idb");
    let claims = claims(&issuer, DATASOURCE_URL);
    let token = sign(&claims);

    let outcome = byova_at(&webex)
        .args([
            "jws",
            "verify",
            &token,
            "--datasource-url",
            DATASOURCE_URL,
            "--issuer",
            &issuer,
        ])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(outcome.json(), claims);

    // From stdin, with the audience required.
    let outcome = byova_at(&webex)
        .env("WEBEX_DATASOURCE_URL", DATASOURCE_URL)
        .args([
            "jws",
            "verify",
            "-",
            "--issuer",
            &issuer,
            "--audience",
            "BYOVAGateway",
        ])
        .stdin(&format!("{token}\n"))
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(outcome.json(), claims);
    webex.verify().await;
}

#[tokio::test]
async fn a_token_for_another_data_source_exits_1_naming_the_claim() {
    let webex = WebexStandIn::start().await;
    broker(&webex, 2).await;
    let issuer = webex.url("/idb");
    let token = sign(&claims(&issuer, "https://elsewhere.example.com/byova"));

    let outcome = byova_at(&webex)
        .args([
            "jws",
            "verify",
            &token,
            "--datasource-url",
            DATASOURCE_URL,
            "--issuer",
            &issuer,
        ])
        .run()
        .await;
    outcome.assert_failure();
    assert!(
        outcome.stderr.starts_with(
            "error: JWS verification failed: claim mismatch `com.cisco.datasource.url`"
        ),
        "{outcome:?}"
    );
    assert!(
        !outcome.stderr.contains(&token),
        "the token leaked: {outcome:?}"
    );

    let outcome = byova_at(&webex)
        .args([
            "--json",
            "jws",
            "verify",
            &token,
            "--datasource-url",
            DATASOURCE_URL,
            "--issuer",
            &issuer,
        ])
        .run()
        .await;
    outcome.assert_failure();
    assert_eq!(outcome.error_json()["error"]["kind"], "claim_mismatch");
    webex.verify().await;
}

#[tokio::test]
async fn wrong_schema_expired_and_tampered_tokens_are_refused() {
    let webex = WebexStandIn::start().await;
    // One fetch per process that gets as far as the signature.
    broker(&webex, 3).await;
    let issuer = webex.url("/idb");
    let valid = claims(&issuer, DATASOURCE_URL);
    let mut expired = valid.clone();
    expired["exp"] = json!(now() - 3600);
    let token = sign(&valid);
    let (head, rest) = token.split_once('.').expect("header");
    let (_, signature) = rest.split_once('.').expect("payload");
    let mut tampered_claims = valid.clone();
    tampered_claims["sub"] = json!("someoneElse");
    let tampered_payload = sign(&tampered_claims)
        .split('.')
        .nth(1)
        .expect("payload")
        .to_owned();
    let tampered = format!("{head}.{tampered_payload}.{signature}");

    for (token, schema, kind) in [
        (
            sign(&valid),
            Some("11111111-2222-3333-4444-555555555555"),
            "claim_mismatch",
        ),
        (sign(&expired), None, "expired"),
        (tampered, None, "bad_signature"),
        ("not-a-jws".to_owned(), None, "malformed"),
    ] {
        let mut args = vec![
            "--json".to_owned(),
            "jws".to_owned(),
            "verify".to_owned(),
            token,
            "--datasource-url".to_owned(),
            DATASOURCE_URL.to_owned(),
            "--issuer".to_owned(),
            issuer.clone(),
        ];
        if let Some(schema) = schema {
            args.extend(["--schema-uuid".to_owned(), schema.to_owned()]);
        }
        let outcome = byova_at(&webex).args(&args).run().await;
        outcome.assert_failure();
        assert_eq!(outcome.error_json()["error"]["kind"], kind, "{outcome:?}");
    }
    webex.verify().await;
}

#[tokio::test]
async fn an_issuer_outside_the_regions_is_refused_without_a_fetch() {
    let webex = WebexStandIn::start().await;
    // A US identity broker, while only EU and CA are accepted.
    let token = sign(&claims("https://idbroker.webex.com/idb", DATASOURCE_URL));
    let outcome = byova_at(&webex)
        .env("WEBEX_REGION", "eu,ca")
        .args([
            "--json",
            "jws",
            "verify",
            &token,
            "--datasource-url",
            DATASOURCE_URL,
        ])
        .run()
        .await;
    outcome.assert_failure();
    assert_eq!(outcome.error_json()["error"]["kind"], "unknown_issuer");
    webex.verify().await;
}

#[tokio::test]
async fn an_unusable_configuration_is_a_usage_error() {
    let outcome = byova()
        .args(["jws", "verify", "a.b.c", "--datasource-url", "not a url"])
        .run()
        .await;
    outcome.assert_usage();
    assert!(outcome.stderr.contains("not a URL"), "{outcome:?}");
    let outcome = byova()
        .args([
            "jws",
            "verify",
            "a.b.c",
            "--datasource-url",
            DATASOURCE_URL,
            "--issuer",
            "https://x/idb/",
        ])
        .run()
        .await;
    outcome.assert_usage();
}

#[tokio::test]
async fn a_key_set_that_cannot_be_fetched_exits_1() {
    let webex = WebexStandIn::start().await;
    Mock::given(m::method("GET"))
        .and(m::path(KEYS_PATH))
        .respond_with(responses::error(404, "no keys here", "ROUTER_KEYS"))
        .mount(webex.server())
        .await;
    let issuer = webex.url("/idb");
    let token = sign(&claims(&issuer, DATASOURCE_URL));
    let outcome = byova_at(&webex)
        .args([
            "--json",
            "jws",
            "verify",
            &token,
            "--datasource-url",
            DATASOURCE_URL,
            "--issuer",
            &issuer,
        ])
        .run()
        .await;
    outcome.assert_failure();
    assert_eq!(outcome.error_json()["error"]["kind"], "key_set_unavailable");
    webex.verify().await;
}
