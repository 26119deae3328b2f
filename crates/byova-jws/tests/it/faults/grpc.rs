//! The gRPC auth layer in front of a real tonic server while the broker fails: `UNAVAILABLE`
//! (never `UNAUTHENTICATED`) without keys, `SERVING` with cached keys, and back to normal when
//! the broker recovers. The server keeps serving throughout.

use std::net::SocketAddr;

use byova_jws::JwsAuthLayer;
use futures_util::future::join_all;
use tonic::Code;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Endpoint, Server};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::server::HealthReporter;

use super::broker::{Answer, FlakyBroker};
use super::{settle, verifier};
use crate::support::{COOLDOWN, TTL, TokenSpec, jump, keys};

const CALLS: usize = 20;

/// A tonic server with the health service behind the layer (health not exempt).
struct Guarded {
    channel: Channel,
    task: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    _reporter: HealthReporter,
}

impl Guarded {
    async fn start(layer: JwsAuthLayer) -> Self {
        let (reporter, health) = tonic_health::server::health_reporter();
        let incoming = TcpIncoming::bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
        let addr: SocketAddr = incoming.local_addr().expect("local addr");
        let task = tokio::spawn(
            Server::builder()
                .layer(layer.exempt_prefixes(Vec::<String>::new()))
                .add_service(health)
                .serve_with_incoming(incoming),
        );
        let channel = Endpoint::from_shared(format!("http://{addr}"))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect");
        Self {
            channel,
            task,
            _reporter: reporter,
        }
    }

    /// A health check with a fresh valid token of `issuer`.
    async fn check(&self, issuer: &str) -> Result<ServingStatus, tonic::Status> {
        let token = TokenSpec::valid(issuer).sign();
        let mut request = tonic::Request::new(HealthCheckRequest {
            service: String::new(),
        });
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("metadata"),
        );
        let response = HealthClient::new(self.channel.clone())
            .check(request)
            .await?;
        Ok(response.into_inner().status())
    }

    /// `CALLS` concurrent checks.
    async fn checks(&self, issuer: &str) -> Vec<Result<ServingStatus, tonic::Status>> {
        join_all((0..CALLS).map(|_| self.check(issuer))).await
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn assert_unavailable(results: Vec<Result<ServingStatus, tonic::Status>>, what: &str) {
    for result in results {
        let status = result.expect_err(what);
        assert_eq!(status.code(), Code::Unavailable, "{what}: {status:?}");
        assert_eq!(
            status.message(),
            "JWS verification failed: key set unavailable",
            "{what}"
        );
    }
}

fn assert_serving(results: Vec<Result<ServingStatus, tonic::Status>>, what: &str) {
    for result in results {
        assert_eq!(result.expect(what), ServingStatus::Serving, "{what}");
    }
}

#[tokio::test]
async fn the_layer_answers_unavailable_during_an_outage_and_serves_after_it() {
    let broker = FlakyBroker::start(Answer::TooMany(None)).await;
    let issuer = broker.issuer();
    let verifier = verifier(&issuer);
    let server = Guarded::start(JwsAuthLayer::new(verifier.clone())).await;

    // No keys yet: every call is UNAVAILABLE, from one fetch.
    assert_unavailable(server.checks(&issuer).await, "429 storm, cold");
    assert_eq!(broker.fetches(), 1);
    for outage in [Answer::Status(503), Answer::Reset, Answer::Stall] {
        broker.answer(outage.clone());
        jump(COOLDOWN).await;
        assert_unavailable(server.checks(&issuer).await, &format!("{outage:?}, cold"));
    }
    assert_eq!(broker.fetches(), 4);

    // The broker recovers: calls pass.
    broker.answer(Answer::keys(&[&keys().a]));
    jump(COOLDOWN).await;
    assert_serving(server.checks(&issuer).await, "recovered");
    assert_eq!(broker.fetches(), 5);

    // It fails again after the TTL: the stale keys keep every call passing.
    for outage in [Answer::Status(502), Answer::Truncated, Answer::Garbage] {
        broker.answer(outage.clone());
        jump(TTL).await;
        assert_serving(server.checks(&issuer).await, &format!("{outage:?}, warm"));
        settle(&verifier, &issuer).await;
    }
    assert_eq!(broker.fetches(), 8);
}
