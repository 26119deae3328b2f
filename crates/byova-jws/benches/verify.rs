//! Verification cost: a fresh token (parse, RS256 signature, claims) and a cached one (SHA-256
//! and a map lookup). Run with `cargo bench -p byova-jws`.
//!
//! Both paths complete without waiting (the key set is static), so each iteration polls the
//! verification future once with `now_or_never`, measuring the work and not an executor.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use byova_jws::{BYOVA_SCHEMA_UUID, Jwk, JwkSet, Verifier};
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt as _;
use josekit::jws::{JwsHeader, RS256};
use josekit::jwt::{self, JwtPayload};

const ISSUER: &str = "https://idbroker-b-us.webex.com/idb";
const DATASOURCE_URL: &str = "https://byova.example.com/va/v1";

/// A realistic Webex-shaped token (about 700 bytes) and the key set that verifies it.
fn token_and_keys() -> (String, JwkSet) {
    let private = Jwk::generate_rsa_key(2048).expect("RSA key");
    let mut public = private.to_public_key().expect("public key");
    public.set_key_id("bench-key");
    public.set_algorithm("RS256");
    public.set_key_use("sig");
    let mut keys = JwkSet::new();
    keys.push_key(public);

    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    header.set_key_id("bench-key");
    let mut payload = JwtPayload::new();
    payload.set_issuer(ISSUER);
    payload.set_audience(vec!["BYOVAGateway"]);
    payload.set_subject("callAudioData");
    payload.set_jwt_id("0f5b1c2e-7a3d-4a8e-9d61-3c2b7e9f4a10");
    payload.set_issued_at(&SystemTime::now());
    payload.set_expires_at(&(SystemTime::now() + Duration::from_secs(24 * 3600)));
    payload
        .set_claim("com.cisco.datasource.url", Some(DATASOURCE_URL.into()))
        .expect("claim");
    payload
        .set_claim(
            "com.cisco.datasource.schema.uuid",
            Some(BYOVA_SCHEMA_UUID.into()),
        )
        .expect("claim");
    payload
        .set_claim(
            "com.cisco.datasource.orgid",
            Some("1eb65fdf-9643-417f-9974-ad72cae0e10f".into()),
        )
        .expect("claim");
    let signer = RS256.signer_from_jwk(&private).expect("signer");
    let token = jwt::encode_with_signer(&payload, &header, &signer).expect("token");
    (token, keys)
}

fn verifier(keys: JwkSet, cache: usize) -> Verifier {
    Verifier::builder(DATASOURCE_URL)
        .regions([])
        .static_key_set(ISSUER, keys)
        .token_cache_capacity(cache)
        .build()
        .expect("verifier")
}

fn verify(c: &mut Criterion) {
    let (token, keys) = token_and_keys();
    eprintln!("token under test: {} bytes", token.len());
    let mut group = c.benchmark_group("verify");

    let fresh = verifier(keys.clone(), 0);
    group.bench_function("fresh_rs256", |b| {
        b.iter(|| {
            fresh
                .verify(black_box(&token))
                .now_or_never()
                .expect("completes without waiting")
                .expect("valid token")
        });
    });

    let cached = verifier(keys, 1024);
    cached
        .verify(&token)
        .now_or_never()
        .expect("completes")
        .expect("valid token");
    group.bench_function("cached", |b| {
        b.iter(|| {
            cached
                .verify(black_box(&token))
                .now_or_never()
                .expect("completes without waiting")
                .expect("valid token")
        });
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
