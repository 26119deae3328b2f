//! The hostile-token matrix: every attack is refused with its own kind, before any key fetch
//! when the defect is visible without keys, and the error never contains the token.

use byova_jws::{Claim, Error, ErrorKind, Verifier};
use josekit::jws::{HS256, JwsSigner as _};
use serde_json::json;

use crate::support::{KeyServer, TokenSpec, b64, builder_for, keys, now, verifier_for};

struct Fixture {
    server: KeyServer,
    verifier: Verifier,
}

impl Fixture {
    async fn new() -> Self {
        let server = KeyServer::with_keys(&[&keys().a]).await;
        let verifier = verifier_for(&server.issuer());
        Self { server, verifier }
    }

    fn valid(&self) -> TokenSpec {
        TokenSpec::valid(&self.server.issuer())
    }

    /// Verifies `token`, expecting `kind`, and checks the error does not leak the token.
    async fn refused(&self, token: &str, kind: ErrorKind) -> Error {
        let err = self
            .verifier
            .verify(token)
            .await
            .expect_err("the hostile token was accepted");
        assert_eq!(err.kind(), kind, "unexpected error: {err}");
        let text = format!("{err} {err:?}");
        assert!(
            token.is_empty() || !text.contains(token),
            "the error contains the token: {text}"
        );
        if let Some(signature) = token.rsplit('.').next().filter(|s| s.len() > 16) {
            assert!(
                !text.contains(signature),
                "the error contains the signature: {text}"
            );
        }
        err
    }
}

#[tokio::test]
async fn alg_none_is_refused_without_fetching_keys() {
    let fx = Fixture::new().await;
    let (header, payload) = fx.valid().header("alg", "none").segments();
    fx.refused(
        &format!("{header}.{payload}."),
        ErrorKind::DisallowedAlgorithm,
    )
    .await;
    // Also with a signature segment present, and spelled differently.
    let (header, payload) = fx.valid().header("alg", "None").segments();
    fx.refused(
        &format!("{header}.{payload}.c2ln"),
        ErrorKind::DisallowedAlgorithm,
    )
    .await;
    assert_eq!(fx.server.fetches(), 0);
}

#[tokio::test]
async fn hs256_with_the_public_key_as_secret_is_refused() {
    let fx = Fixture::new().await;
    let (header, payload) = fx.valid().header("alg", "HS256").segments();
    let input = format!("{header}.{payload}");
    let signer = HS256
        .signer_from_bytes(keys().a.public_pem())
        .expect("HMAC signer");
    let signature = signer.sign(input.as_bytes()).expect("HMAC");
    fx.refused(
        &format!("{input}.{}", b64(signature)),
        ErrorKind::DisallowedAlgorithm,
    )
    .await;
    assert_eq!(fx.server.fetches(), 0);
}

#[tokio::test]
async fn tampered_payload_is_a_bad_signature() {
    let fx = Fixture::new().await;
    let genuine = fx.valid();
    let token = genuine.sign();
    let signature = token.rsplit('.').next().expect("signature");
    let (header, payload) = genuine.clone().claim("sub", "adminAudioData").segments();
    fx.refused(
        &format!("{header}.{payload}.{signature}"),
        ErrorKind::BadSignature,
    )
    .await;
    // The genuine token still passes: the key set was fine.
    fx.verifier.verify(&token).await.expect("genuine token");
}

#[tokio::test]
async fn tampered_header_is_a_bad_signature() {
    let fx = Fixture::new().await;
    let genuine = fx.valid();
    let token = genuine.sign();
    let signature = token.rsplit('.').next().expect("signature");
    let (header, payload) = genuine.header("typ", "at+jwt").segments();
    fx.refused(
        &format!("{header}.{payload}.{signature}"),
        ErrorKind::BadSignature,
    )
    .await;
}

#[tokio::test]
async fn signature_by_another_key_under_the_same_kid_is_refused() {
    let fx = Fixture::new().await;
    let forged = fx.valid().key(&keys().impostor).sign();
    let err = fx.refused(&forged, ErrorKind::BadSignature).await;
    assert!(err.detail().contains("\"key-a\""), "{err}");
}

#[tokio::test]
async fn expiry_beyond_the_leeway_is_refused_within_it_accepted() {
    let fx = Fixture::new().await;
    let expired = fx.valid().claim("exp", now() - 120).sign();
    let err = fx.refused(&expired, ErrorKind::Expired).await;
    assert!(err.detail().contains("leeway 30 s"), "{err}");
    // 10 s late is clock skew: accepted, but never remembered as valid.
    let skewed = fx.valid().claim("exp", now() - 10).sign();
    fx.verifier.verify(&skewed).await.expect("within leeway");
    assert!(fx.verifier.cached(&skewed).is_none());
}

#[tokio::test]
async fn nbf_in_the_future_is_refused() {
    let fx = Fixture::new().await;
    let early = fx.valid().claim("nbf", now() + 600).sign();
    fx.refused(&early, ErrorKind::NotYetValid).await;
    let skewed = fx.valid().claim("nbf", now() + 5).sign();
    fx.verifier.verify(&skewed).await.expect("within leeway");
}

#[tokio::test]
async fn a_token_without_exp_is_refused() {
    let fx = Fixture::new().await;
    let eternal = fx.valid().without("exp").sign();
    let err = fx
        .refused(&eternal, ErrorKind::MissingClaim(Claim::Exp))
        .await;
    assert_eq!(err.claim(), Some(Claim::Exp));
}

#[tokio::test]
async fn issuers_outside_the_allow_list_are_refused_without_a_fetch() {
    let fx = Fixture::new().await;
    for issuer in [
        "https://idbroker.webex.com.evil.example/idb".to_owned(),
        format!("{}/", fx.server.issuer()),
        fx.server.issuer().to_uppercase(),
        fx.server.issuer().replace("http://", "https://"),
    ] {
        let token = fx.valid().claim("iss", issuer.as_str()).sign();
        fx.refused(&token, ErrorKind::UnknownIssuer).await;
    }
    let token = fx.valid().without("iss").sign();
    fx.refused(&token, ErrorKind::UnknownIssuer).await;
    assert_eq!(
        fx.server.fetches(),
        0,
        "no key set fetched for a refused issuer"
    );
}

#[tokio::test]
async fn an_http_look_alike_of_a_webex_issuer_is_refused() {
    let server = KeyServer::with_keys(&[&keys().a]).await;
    // The default Webex issuers (https) plus the loopback one.
    let verifier = Verifier::builder(crate::support::DATASOURCE_URL)
        .issuer(server.issuer())
        .build()
        .expect("verifier");
    assert!(
        verifier
            .issuers()
            .contains(&"https://idbroker.webex.com/idb")
    );
    let token = TokenSpec::valid("http://idbroker.webex.com/idb").sign();
    let err = verifier
        .verify(&token)
        .await
        .expect_err("look-alike accepted");
    assert_eq!(err.kind(), ErrorKind::UnknownIssuer);
    assert!(
        err.detail().contains("\"http://idbroker.webex.com/idb\""),
        "{err}"
    );
}

#[tokio::test]
async fn datasource_url_off_by_a_trailing_slash_or_an_explicit_port_is_refused() {
    let fx = Fixture::new().await;
    for (url, hint) in [
        ("https://byova.example.com/va/v1/", "trailing `/`"),
        (
            "https://byova.example.com:443/va/v1",
            "explicit default port",
        ),
        ("https://BYOVA.example.com/va/v1", "letter case"),
        ("https://byova.example.com/./va/v1", "written differently"),
    ] {
        let token = fx.valid().claim("com.cisco.datasource.url", url).sign();
        let err = fx
            .refused(&token, ErrorKind::ClaimMismatch(Claim::DataSourceUrl))
            .await;
        assert!(
            err.detail().starts_with(&format!(
                "expected \"https://byova.example.com/va/v1\", got \"{url}\""
            )),
            "{err}"
        );
        assert!(err.detail().contains(hint), "{err}");
    }
}

#[tokio::test]
async fn a_wrong_schema_is_refused() {
    let fx = Fixture::new().await;
    let token = fx
        .valid()
        .claim(
            "com.cisco.datasource.schema.uuid",
            "0c1a6b4e-0000-4000-8000-000000000000",
        )
        .sign();
    fx.refused(&token, ErrorKind::ClaimMismatch(Claim::SchemaUuid))
        .await;
}

#[tokio::test]
async fn missing_aud_sub_or_jti_is_refused() {
    let fx = Fixture::new().await;
    for (name, claim) in [
        ("aud", Claim::Aud),
        ("sub", Claim::Sub),
        ("jti", Claim::Jti),
    ] {
        let token = fx.valid().without(name).sign();
        fx.refused(&token, ErrorKind::MissingClaim(claim)).await;
        let token = fx.valid().claim(name, "").sign();
        fx.refused(&token, ErrorKind::MissingClaim(claim)).await;
    }
    let token = fx.valid().claim("aud", json!([])).sign();
    fx.refused(&token, ErrorKind::MissingClaim(Claim::Aud))
        .await;
}

#[tokio::test]
async fn an_oversized_token_is_refused_before_parsing() {
    let fx = Fixture::new().await;
    let huge = fx.valid().claim("padding", "x".repeat(16 * 1024)).sign();
    let err = fx.refused(&huge, ErrorKind::Malformed).await;
    assert!(
        err.detail().contains("more than the 16384 allowed"),
        "{err}"
    );
    assert_eq!(fx.server.fetches(), 0);
    // The limit is configurable, and a token under it is parsed normally.
    let small_limit = builder_for(&fx.server.issuer())
        .max_token_size(200)
        .build()
        .expect("verifier");
    let err = small_limit.verify(&fx.valid().sign()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Malformed);
}

#[tokio::test]
async fn two_or_four_segments_are_malformed() {
    let fx = Fixture::new().await;
    let token = fx.valid().sign();
    let mut parts = token.split('.');
    let (header, payload, signature) = (
        parts.next().expect("header"),
        parts.next().expect("payload"),
        parts.next().expect("signature"),
    );
    fx.refused(&format!("{header}.{payload}"), ErrorKind::Malformed)
        .await;
    fx.refused(&format!("{token}.{signature}"), ErrorKind::Malformed)
        .await;
    fx.refused(
        &format!("{header}.{payload}.{signature}.e30"),
        ErrorKind::Malformed,
    )
    .await;
    fx.refused("", ErrorKind::Malformed).await;
    assert_eq!(fx.server.fetches(), 0);
}

#[tokio::test]
async fn bad_base64_is_malformed() {
    let fx = Fixture::new().await;
    let token = fx.valid().sign();
    let (header, rest) = token.split_once('.').expect("dot");
    let (payload, signature) = rest.split_once('.').expect("dot");
    for broken in [
        format!("{header}!.{payload}.{signature}"),
        format!("{header}.{payload}*.{signature}"),
        format!("{header}.{payload}.{signature}=="),
        format!("{header}.{}.{signature}", payload.replace('-', "+")),
        format!("{header}.{payload}.{}", signature.replace('_', "/")),
    ] {
        if broken == token {
            continue;
        }
        fx.refused(&broken, ErrorKind::Malformed).await;
    }
}

#[tokio::test]
async fn unknown_or_missing_kid_and_disagreeing_jwk_alg_are_unknown_keys() {
    let fx = Fixture::new().await;
    let err = fx
        .refused(
            &fx.valid().header("kid", "key-zz").sign(),
            ErrorKind::UnknownKey,
        )
        .await;
    assert!(err.detail().contains("no key with kid \"key-zz\""), "{err}");
    let mut no_kid = fx.valid();
    no_kid.header.remove("kid");
    fx.refused(&no_kid.sign(), ErrorKind::UnknownKey).await;

    // A JWK that says RS512 cannot verify an RS256 token, even with RS512 allowed.
    let mut jwk = keys().b.public_jwk();
    jwk.set_algorithm("RS512");
    let mut set = byova_jws::JwkSet::new();
    set.push_key(jwk);
    let verifier = Verifier::builder(crate::support::DATASOURCE_URL)
        .regions([])
        .static_key_set(fx.server.issuer(), set)
        .algorithms([byova_jws::Algorithm::Rs256, byova_jws::Algorithm::Rs512])
        .build()
        .expect("verifier");
    let err = verifier
        .verify(&fx.valid().key(&keys().b).sign())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownKey);
    assert!(
        err.detail()
            .contains("verifies RS512 only, the token says RS256"),
        "{err}"
    );
}

#[tokio::test]
async fn an_allowed_but_unlisted_asymmetric_algorithm_is_refused() {
    let fx = Fixture::new().await;
    let token = fx.valid().header("alg", "RS512").sign();
    fx.refused(&token, ErrorKind::DisallowedAlgorithm).await;
    assert_eq!(fx.server.fetches(), 0);
}
