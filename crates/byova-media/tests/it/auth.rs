//! JWS authentication (byova-jws) in front of the media service: tokens minted the way Webex
//! mints them, with the issuer's key set served by a loopback HTTP server.

use std::time::{Duration, SystemTime};

use byova_jws::{BYOVA_SCHEMA_UUID, Jwk, JwkSet, Verifier};
use byova_media::client::Caller;
use josekit::jws::{JwsHeader, RS256};
use josekit::jwt::{self, JwtPayload};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::support::{Seen, Setup, TestServer};

const DATASOURCE_URL: &str = "https://va.example.com/byova";
const AUDIENCE: &str = "BYOVAGateway";

/// Serves `body` (a JWK set) to every HTTP request; returns the issuer URL whose
/// `/oauth2/v2/keys/verificationjwk` it answers.
async fn serve_key_set(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&request);
                let status = if head.starts_with("GET /idb/oauth2/v2/keys/verificationjwk ") {
                    "200 OK"
                } else {
                    "404 Not Found"
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/idb")
}

struct Keys {
    issuer: String,
    private: Jwk,
}

impl Keys {
    async fn new() -> Self {
        let private = Jwk::generate_rsa_key(2048).unwrap();
        // `to_public_key` keeps only the key material: name it on the public half.
        let mut public = private.to_public_key().unwrap();
        public.set_key_id("key-1");
        public.set_algorithm("RS256");
        public.set_key_use("sig");
        let mut set = JwkSet::new();
        set.push_key(public);
        let issuer = serve_key_set(set.to_string()).await;
        Self { issuer, private }
    }

    fn verifier(&self) -> Verifier {
        Verifier::builder(DATASOURCE_URL)
            .audience(AUDIENCE)
            .regions(Vec::<byova_jws::Region>::new())
            .issuer(self.issuer.clone())
            .build()
            .unwrap()
    }

    fn token(&self, expires_in: i64) -> String {
        let mut header = JwsHeader::new();
        header.set_key_id("key-1");
        let mut payload = JwtPayload::new();
        payload.set_issuer(&self.issuer);
        payload.set_audience(vec![AUDIENCE]);
        payload.set_subject("callAudioData");
        payload.set_jwt_id("jti-1");
        let now = SystemTime::now();
        let exp = if expires_in >= 0 {
            now + Duration::from_secs(expires_in.unsigned_abs())
        } else {
            now - Duration::from_secs(expires_in.unsigned_abs())
        };
        payload.set_expires_at(&exp);
        payload
            .set_claim("com.cisco.datasource.url", Some(DATASOURCE_URL.into()))
            .unwrap();
        payload
            .set_claim(
                "com.cisco.datasource.schema.uuid",
                Some(BYOVA_SCHEMA_UUID.into()),
            )
            .unwrap();
        jwt::encode_with_signer(
            &payload,
            &header,
            &RS256.signer_from_jwk(&self.private).unwrap(),
        )
        .unwrap()
    }
}

#[tokio::test]
async fn calls_need_a_valid_unexpired_jws() {
    let keys = Keys::new().await;
    let verifier = keys.verifier();
    let mut t =
        TestServer::start_with(Setup::default(), move |builder| builder.jws(verifier)).await;
    let addr = format!("http://{}", t.server().local_addr());

    // Missing.
    let result = t.call("auth-1").session_start("", Default::default()).await;
    assert_eq!(result.code(), Code::Unauthenticated, "{:?}", result.status);
    // Not a JWS at all.
    let garbage = Caller::connect(addr.clone())
        .await
        .unwrap()
        .with_token("not.a.token")
        .unwrap();
    let result = garbage
        .call("auth-2")
        .session_start("", Default::default())
        .await;
    assert_eq!(result.code(), Code::Unauthenticated);
    // Signed by another key.
    let stranger = Keys::new().await;
    let forged = Caller::connect(addr.clone())
        .await
        .unwrap()
        .with_token(&{
            let mut token = stranger.token(3600);
            // Same issuer as the server trusts, wrong signature.
            let parts: Vec<&str> = token.split('.').collect();
            let genuine = keys.token(3600);
            let genuine_parts: Vec<&str> = genuine.split('.').collect();
            token = format!("{}.{}.{}", genuine_parts[0], genuine_parts[1], parts[2]);
            token
        })
        .unwrap();
    let result = forged
        .call("auth-3")
        .session_start("", Default::default())
        .await;
    assert_eq!(result.code(), Code::Unauthenticated);
    // Expired (beyond the 30 s leeway).
    let expired = Caller::connect(addr.clone())
        .await
        .unwrap()
        .with_token(&keys.token(-600))
        .unwrap();
    let result = expired
        .call("auth-4")
        .session_start("", Default::default())
        .await;
    assert_eq!(result.code(), Code::Unauthenticated);
    let refused = expired.list_virtual_agents("org-1").await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(t.server().live_calls(), 0, "no call reached the agent");

    // Valid: the call works and the agent sees the claims.
    let valid = Caller::connect(addr.clone())
        .await
        .unwrap()
        .with_token(&keys.token(3600))
        .unwrap();
    let result = valid
        .call("auth-5")
        .session_start("", Default::default())
        .await;
    assert!(result.is_ok(), "{:?}", result.status);
    assert_eq!(result.responses.len(), 2);
    assert!(matches!(t.next_seen().await, Seen::SessionStart { .. }));
    assert_eq!(
        t.next_seen().await,
        Seen::Claims {
            subject: "callAudioData".into()
        }
    );
    assert_eq!(valid.list_virtual_agents("org-1").await.unwrap().len(), 1);

    // Health checks need no token (load-balancer probes).
    let channel = tonic::transport::Endpoint::from_shared(addr)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let health = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status, ServingStatus::Serving as i32);
}

#[tokio::test]
async fn authentication_must_be_configured_or_explicitly_disabled() {
    let err = byova_media::MediaServer::builder()
        .agent(byova_media::AgentConfig::new(
            "bot",
            byova_media::agent_fn(|_, _| async { Ok(byova_media::Reply::none()) }),
        ))
        .build()
        .unwrap_err();
    assert!(err.is_config());
    assert!(err.to_string().contains("disable_authentication"), "{err}");
}
