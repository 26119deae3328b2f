//! Operations: the agent list, health, reflection, the metrics endpoint, TLS and mutual TLS.

use std::net::SocketAddr;

use byova_media::client::Caller;
use byova_media::{AgentConfig, MediaServer, Reply, TlsConfig, agent_fn};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

use crate::support::{Setup, TestServer, within};

#[tokio::test]
async fn list_virtual_agents_returns_the_configured_agents() {
    let server = MediaServer::builder()
        .addr("127.0.0.1:0".parse().unwrap())
        .disable_authentication()
        .agent(
            AgentConfig::new("billing", agent_fn(|_, _| async { Ok(Reply::none()) }))
                .name("Billing"),
        )
        .agent(
            AgentConfig::new("support", agent_fn(|_, _| async { Ok(Reply::none()) }))
                .name("Support")
                .default_agent(true)
                .attribute("language", "en-US"),
        )
        .build()
        .unwrap()
        .bind()
        .await
        .unwrap();
    let caller = Caller::connect(format!("http://{}", server.local_addr()))
        .await
        .unwrap();
    let agents = caller.list_virtual_agents("org-1").await.unwrap();
    let summary: Vec<(&str, &str, bool)> = agents
        .iter()
        .map(|a| {
            (
                a.virtual_agent_id.as_str(),
                a.virtual_agent_name.as_str(),
                a.is_default,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![("billing", "Billing", false), ("support", "Support", true)]
    );
    assert_eq!(agents[1].attributes["language"], "en-US");
    assert!(agents[0].attributes.is_empty());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn health_and_reflection_are_served() {
    let t = TestServer::start().await;
    let channel = t.channel().await;
    let mut health = HealthClient::new(channel.clone());
    for service in ["", "com.cisco.wcc.ccai.media.v1.VoiceVirtualAgent"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(status.status, ServingStatus::Serving as i32, "{service:?}");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "no.such.Service".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);

    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let response = within("reflection", responses.message())
        .await
        .unwrap()
        .unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection response {response:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"com.cisco.wcc.ccai.media.v1.VoiceVirtualAgent".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );
}

/// A plain HTTP/1.1 GET; returns the status code and body.
async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    within("the HTTP response", stream.read_to_string(&mut response))
        .await
        .unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn metrics_health_and_readiness_over_http() {
    let mut t = TestServer::start_with(Setup::default(), |builder| {
        builder.metrics_addr("127.0.0.1:0".parse().unwrap())
    })
    .await;
    let metrics = t.server().metrics_addr().expect("metrics are on");
    let call = t.call("metrics-1");
    call.session_start("", Default::default()).await;
    call.dtmf("1").await;

    let (status, body) = http_get(metrics, "/metrics").await;
    assert_eq!(status, 200);
    for needle in [
        "byova_media_active_calls 1",
        "byova_media_calls_started_total 1",
        "byova_media_turns_total{kind=\"session_start\"} 1",
        "byova_media_turns_total{kind=\"dtmf\"} 1",
        "byova_media_reply_latency_seconds_count{kind=\"session_start\"} 1",
        "byova_media_turn_duration_seconds_count",
    ] {
        assert!(body.contains(needle), "missing {needle:?} in\n{body}");
    }
    assert_eq!(http_get(metrics, "/healthz").await.0, 200);
    assert_eq!(http_get(metrics, "/readyz").await.0, 200);
    assert_eq!(http_get(metrics, "/nothing").await.0, 404);

    call.session_end().await;
    t.wait_no_calls().await;
    let (_, body) = http_get(metrics, "/metrics").await;
    assert!(body.contains("byova_media_active_calls 0"), "{body}");
    assert!(
        body.contains("byova_media_calls_ended_total{reason=\"caller_ended\"} 1"),
        "{body}"
    );
    let server = t.server.take().unwrap();
    server.shutdown().await.unwrap();
}

fn tls_file(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name);
    std::fs::read(path).unwrap()
}

async fn tls_caller(
    addr: SocketAddr,
    identity: Option<Identity>,
) -> Result<Caller, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(tls_file("ca.pem")))
        .domain_name("localhost");
    if let Some(identity) = identity {
        tls = tls.identity(identity);
    }
    let channel = Endpoint::from_shared(format!("https://localhost:{}", addr.port()))
        .unwrap()
        .tls_config(tls)?
        .connect()
        .await?;
    Ok(Caller::new(channel))
}

#[tokio::test]
async fn tls_serves_calls() {
    let tls = TlsConfig::from_pem(tls_file("server.pem"), tls_file("server.key")).unwrap();
    assert!(!format!("{tls:?}").contains("PRIVATE KEY"));
    let t = TestServer::start_with(Setup::default(), |builder| builder.tls(tls)).await;
    let caller = tls_caller(t.server().local_addr(), None).await.unwrap();
    let result = caller
        .call("tls-1")
        .session_start("", Default::default())
        .await;
    assert!(result.is_ok(), "{:?}", result.status);
    assert_eq!(result.responses.len(), 2);
    // Plain text against a TLS port fails.
    let plain = Caller::connect(format!("http://{}", t.server().local_addr())).await;
    if let Ok(plain) = plain {
        let result = plain
            .call("tls-2")
            .session_start("", Default::default())
            .await;
        assert!(!result.is_ok());
    }
}

#[tokio::test]
async fn mutual_tls_requires_a_client_certificate() {
    let tls = TlsConfig::from_pem(tls_file("server.pem"), tls_file("server.key"))
        .unwrap()
        .client_ca_pem(tls_file("ca.pem"))
        .unwrap();
    let t = TestServer::start_with(Setup::default(), |builder| builder.tls(tls)).await;
    let addr = t.server().local_addr();
    // Without a client certificate the handshake (or the first call) fails.
    match tls_caller(addr, None).await {
        Err(_) => {}
        Ok(anonymous) => {
            let result = anonymous
                .call("mtls-1")
                .session_start("", Default::default())
                .await;
            assert!(
                !result.is_ok(),
                "a client without a certificate got through"
            );
        }
    }
    let identity = Identity::from_pem(tls_file("client.pem"), tls_file("client.key"));
    let caller = tls_caller(addr, Some(identity)).await.unwrap();
    let result = caller
        .call("mtls-2")
        .session_start("", Default::default())
        .await;
    assert!(result.is_ok(), "{:?}", result.status);
    assert_eq!(t.server().live_calls(), 1);
}
