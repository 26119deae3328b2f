//! The tower layer: in front of a real tonic server on loopback, and directly as a service to
//! see the exact responses and the claims handed to the inner service.

use std::convert::Infallible;
use std::future::{Ready, poll_fn, ready};
use std::net::SocketAddr;
use std::task::{Context, Poll};

use byova_jws::{Claims, JwsAuthLayer, Verifier};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Full};
use tonic::Code;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Endpoint, Server};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::server::HealthReporter;
use tower_layer::Layer as _;
use tower_service::Service;

use crate::support::{KeyServer, TokenSpec, dead_issuer, keys, verifier_for};

/// A tonic server with the health service behind the layer.
struct GrpcServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    _reporter: HealthReporter,
}

impl GrpcServer {
    async fn start(layer: JwsAuthLayer) -> Self {
        let (reporter, health) = tonic_health::server::health_reporter();
        let incoming = TcpIncoming::bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
        let addr = incoming.local_addr().expect("local addr");
        let task = tokio::spawn(
            Server::builder()
                .layer(layer)
                .add_service(health)
                .serve_with_incoming(incoming),
        );
        Self {
            addr,
            task,
            _reporter: reporter,
        }
    }

    /// A health `Check` with an optional `authorization` value.
    async fn check(&self, authorization: Option<&str>) -> Result<ServingStatus, tonic::Status> {
        let channel = Endpoint::from_shared(format!("http://{}", self.addr))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect");
        let mut client = HealthClient::new(channel);
        let mut request = tonic::Request::new(HealthCheckRequest {
            service: String::new(),
        });
        if let Some(value) = authorization {
            request
                .metadata_mut()
                .insert("authorization", value.parse().expect("metadata"));
        }
        let response = client.check(request).await?;
        Ok(response.into_inner().status())
    }
}

impl Drop for GrpcServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn assert_status(result: Result<ServingStatus, tonic::Status>, code: Code, message: &str) {
    let status = result.expect_err("the call should have been refused");
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(status.message(), message);
}

#[tokio::test]
async fn health_checks_pass_without_a_token_by_default() {
    let layer = JwsAuthLayer::new(verifier_for(&dead_issuer()));
    assert_eq!(
        layer.exempt_list(),
        ["/grpc.health.v1.Health/", "/grpc.reflection."]
    );
    let server = GrpcServer::start(layer).await;
    assert_eq!(
        server.check(None).await.expect("exempt"),
        ServingStatus::Serving
    );
}

#[tokio::test]
async fn protected_calls_need_a_valid_token_and_the_server_keeps_serving() {
    let keys_server = KeyServer::with_keys(&[&keys().a]).await;
    let issuer = keys_server.issuer();
    let layer = JwsAuthLayer::new(verifier_for(&issuer)).exempt_prefixes(Vec::<String>::new());
    let server = GrpcServer::start(layer).await;

    assert_status(
        server.check(None).await,
        Code::Unauthenticated,
        "JWS verification failed: no `authorization` metadata",
    );
    let token = TokenSpec::valid(&issuer).sign();
    assert_eq!(
        server
            .check(Some(&format!("Bearer {token}")))
            .await
            .expect("valid"),
        ServingStatus::Serving
    );
    // Without the scheme, and again (now from the verified-token cache).
    assert_eq!(
        server.check(Some(&token)).await.expect("valid"),
        ServingStatus::Serving
    );

    let forged = TokenSpec::valid(&issuer).key(&keys().impostor).sign();
    assert_status(
        server.check(Some(&format!("Bearer {forged}"))).await,
        Code::Unauthenticated,
        "JWS verification failed: bad signature",
    );
    let elsewhere = TokenSpec::valid(&issuer)
        .claim("com.cisco.datasource.url", "https://other.example.com/va")
        .sign();
    assert_status(
        server.check(Some(&format!("Bearer {elsewhere}"))).await,
        Code::Unauthenticated,
        "JWS verification failed: claim mismatch `com.cisco.datasource.url`",
    );
    assert_status(
        server.check(Some("Bearer not-a-jws")).await,
        Code::Unauthenticated,
        "JWS verification failed: malformed token",
    );

    assert_eq!(
        server
            .check(Some(&format!(
                "Bearer {}",
                TokenSpec::valid(&issuer).sign()
            )))
            .await
            .expect("still serving"),
        ServingStatus::Serving
    );
    assert_eq!(keys_server.fetches(), 1);
}

#[tokio::test]
async fn calls_are_unavailable_when_no_key_set_could_be_fetched() {
    let issuer = dead_issuer();
    let layer = JwsAuthLayer::new(verifier_for(&issuer)).exempt_prefixes(Vec::<String>::new());
    let server = GrpcServer::start(layer).await;
    let token = TokenSpec::valid(&issuer).sign();
    assert_status(
        server.check(Some(&format!("Bearer {token}"))).await,
        Code::Unavailable,
        "JWS verification failed: key set unavailable",
    );
}

/// An inner service that reports the claims it was given.
#[derive(Clone)]
struct Echo;

impl<B> Service<http::Request<B>> for Echo {
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let subject = request
            .extensions()
            .get::<Claims>()
            .map_or("none".to_owned(), |claims| claims.subject().to_owned());
        let mut response = http::Response::new(Full::new(Bytes::from_static(b"payload")));
        response
            .headers_mut()
            .insert("x-subject", subject.parse().expect("header"));
        ready(Ok(response))
    }
}

async fn call(
    layer: &JwsAuthLayer,
    path: &str,
    authorization: Option<&str>,
) -> (http::Response<()>, Bytes) {
    let mut service = layer.layer(Echo);
    poll_fn(|cx| Service::<http::Request<Empty<Bytes>>>::poll_ready(&mut service, cx))
        .await
        .expect("ready");
    let mut request = http::Request::builder().uri(path);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = service
        .call(request.body(Empty::<Bytes>::new()).expect("request"))
        .await
        .expect("infallible");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    (http::Response::from_parts(parts, ()), body)
}

const VA_PATH: &str = "/com.cisco.wcc.ccai.media.v1.VoiceVirtualAgent/ListVirtualAgents";

#[tokio::test]
async fn verified_claims_reach_the_inner_service() {
    let keys_server = KeyServer::with_keys(&[&keys().a]).await;
    let verifier: Verifier = verifier_for(&keys_server.issuer());
    let layer = JwsAuthLayer::new(verifier.clone());
    let token = TokenSpec::valid(&keys_server.issuer()).sign();

    for _ in 0..2 {
        // First through the signature path, then from the cache.
        let (response, body) = call(&layer, VA_PATH, Some(&format!("Bearer {token}"))).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-subject"], "callAudioData");
        assert_eq!(body, "payload");
        assert!(verifier.cached(&token).is_some());
    }
}

#[tokio::test]
async fn a_rejection_is_a_trailers_only_grpc_response() {
    let layer = JwsAuthLayer::new(verifier_for(&dead_issuer()));
    let (response, body) = call(&layer, VA_PATH, None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/grpc");
    assert_eq!(response.headers()["grpc-status"], "16");
    assert_eq!(
        response.headers()["grpc-message"],
        "JWS verification failed: no `authorization` metadata"
    );
    assert!(
        response.headers().get("x-subject").is_none(),
        "inner service was called"
    );
    assert!(body.is_empty());
}

#[tokio::test]
async fn the_exempt_list_is_configurable() {
    let layer = JwsAuthLayer::new(verifier_for(&dead_issuer())).exempt("/pkg.Public/");
    for path in [
        "/pkg.Public/Ping",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    ] {
        let (response, _) = call(&layer, path, None).await;
        assert_eq!(response.headers()["x-subject"], "none", "{path}");
    }
    for path in [VA_PATH, "/pkg.Private/Ping", "/grpc.health.v2.Health/Check"] {
        let (response, _) = call(&layer, path, None).await;
        assert_eq!(response.headers()["grpc-status"], "16", "{path}");
    }
    let strict = layer.exempt_prefixes(["/pkg.Public/"]);
    let (response, _) = call(&strict, "/grpc.health.v1.Health/Check", None).await;
    assert_eq!(response.headers()["grpc-status"], "16");
}
