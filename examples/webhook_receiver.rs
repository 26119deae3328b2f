//! Receiving the Service App `authorized` / `deauthorized` webhooks with a plain hyper server:
//! each delivery's `X-Spark-Signature` is checked against the raw body, then the org is
//! registered (its tokens minted and stored) or forgotten (its tokens deleted).
//!
//! `POST /webhooks/webex` answers:
//!
//! | status | when |
//! | --- | --- |
//! | 200 `{"status":"ok","event":…,"orgId":…}` | handled (a redelivery: `"status":"duplicate"`) |
//! | 401 | the signature is missing or wrong (nothing was done) |
//! | 400 | the body is not a Service App event |
//! | 413 | the body is over 64 KiB |
//! | 500 | minting or storing failed; Webex retries the delivery later |
//!
//! Environment:
//!
//! | variable | |
//! | --- | --- |
//! | `WEBEX_INTEGRATION_CLIENT_ID`, `WEBEX_INTEGRATION_CLIENT_SECRET` | required: the Integration (authorized once with `quickstart_authorize`) |
//! | `WEBEX_SA_CLIENT_ID`, `WEBEX_SA_CLIENT_SECRET` | required: the Service App |
//! | `WEBEX_WEBHOOK_SECRET` | the secret the webhooks were created with; without it signatures are **not** checked |
//! | `WEBEX_TOKEN_STORE` | where the orgs' tokens go: `file:PATH` or `redis://…` (default `memory`) |
//! | `PORT` | the port to listen on (default 8000, all interfaces) |
//!
//! Try it (Webex must reach the URL, so put it behind your HTTPS endpoint or a tunnel, and
//! register it with `quickstart_authorize` or `byova webhooks ensure`):
//!
//! ```text
//! export WEBEX_INTEGRATION_CLIENT_ID=… WEBEX_INTEGRATION_CLIENT_SECRET=…
//! export WEBEX_SA_CLIENT_ID=… WEBEX_SA_CLIENT_SECRET=… WEBEX_WEBHOOK_SECRET=…
//! export WEBEX_TOKEN_STORE=file:$HOME/.config/byova/tokens.json
//! cargo run --example webhook_receiver
//! ```
//!
//! Without the required variables it stops at once and names the missing ones.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context as _;
use byova::auth::webhook::WebhookOutcome;
use byova::{Byova, Config};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// Where Webex posts.
const PATH: &str = "/webhooks/webex";
/// Larger bodies are refused: Service App events are a few hundred bytes.
const MAX_BODY: usize = 64 * 1024;

/// Answers one request.
async fn handle(byova: &Byova, request: Request<Incoming>) -> Response<Full<Bytes>> {
    if request.uri().path() != PATH {
        return respond(StatusCode::NOT_FOUND, json!({ "error": "not found" }));
    }
    if request.method() != Method::POST {
        return respond(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({ "error": "POST only" }),
        );
    }
    let (parts, body) = request.into_parts();
    // The signature covers the raw bytes: never parse and re-serialise before checking it.
    let Ok(body) = Limited::new(body, MAX_BODY).collect().await else {
        return respond(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({ "error": "body too large or unreadable" }),
        );
    };
    let body = body.to_bytes();
    match byova
        .handle_service_app_webhook(&parts.headers, &body)
        .await
    {
        Ok(outcome) => {
            tracing::info!(?outcome, "webhook handled");
            respond(StatusCode::OK, describe(&outcome))
        }
        Err(error) => {
            let auth = error.auth_error();
            if auth.is_some_and(|auth| auth.is_signature()) {
                tracing::warn!(%error, "webhook refused: bad signature");
                respond(
                    StatusCode::UNAUTHORIZED,
                    json!({ "error": "invalid signature" }),
                )
            } else if auth.is_some_and(|auth| auth.is_webhook_payload()) {
                tracing::warn!(%error, "webhook refused: not a Service App event");
                respond(
                    StatusCode::BAD_REQUEST,
                    json!({ "error": "not a Service App event" }),
                )
            } else {
                tracing::error!(%error, "webhook failed; Webex will retry");
                respond(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "error": "try again later" }),
                )
            }
        }
    }
}

/// The JSON answer for an outcome.
fn describe(outcome: &WebhookOutcome) -> Value {
    match outcome {
        WebhookOutcome::Authorized { org_id, .. } => {
            json!({ "status": "ok", "event": "authorized", "orgId": org_id.as_str() })
        }
        WebhookOutcome::Deauthorized {
            org_id,
            was_registered,
        } => json!({
            "status": "ok",
            "event": "deauthorized",
            "orgId": org_id.as_str(),
            "wasRegistered": was_registered,
        }),
        WebhookOutcome::Duplicate { event_id } => {
            json!({ "status": "duplicate", "eventId": event_id })
        }
        _ => json!({ "status": "ok" }),
    }
}

fn respond(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// Serves HTTP/1.1 on `listener` until the task is dropped.
async fn serve(listener: TcpListener, byova: Byova) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let byova = byova.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let byova = byova.clone();
                async move { Ok::<_, Infallible>(handle(&byova, request).await) }
            });
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = Config::from_env()
        .context("this example needs Webex credentials in the environment (see its doc comment)")?;
    if config.webhook_secret.is_none() {
        tracing::warn!(
            "WEBEX_WEBHOOK_SECRET is not set: anyone who can reach this port can register or \
             forget orgs (signatures are not checked)"
        );
    }
    let byova = Byova::from_config(config).await?;
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.trim().parse().context("PORT is not a port number")?,
        Err(_) => 8000,
    };
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))).await?;
    tracing::info!(addr = %listener.local_addr()?, path = PATH, "receiving Service App webhooks");
    tokio::select! {
        result = serve(listener, byova) => result?,
        _ = tokio::signal::ctrl_c() => tracing::info!("stopping"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use byova::api::RetryPolicy;
    use byova::api::test_util::wiremock::Mock;
    use byova::api::test_util::{WebexStandIn, matchers as m, responses};
    use byova::auth::storage::{MemoryTokenStorage, TokenStorage};
    use byova::auth::webhook::WebhookVerifier;
    use byova::models::{IntegrationCredentials, OAuthTokens, OrgId, ServiceAppCredentials};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    const SECRET: &str = "webhook-secret";
    const ORG: &str = "63b02f90-0be4-4b43-9e78-cad425ac554c";
    /// The org id as Webex sends it in events.
    const ORG_ENCODED: &str =
        "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi82M2IwMmY5MC0wYmU0LTRiNDMtOWU3OC1jYWQ0MjVhYzU1NGM";
    /// The Service App's application id, derived from its client id `sa-id`.
    const APPLICATION_ID: &str = "Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL3NhLWlk";

    fn event(id: &str, kind: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "id": id,
            "resource": "serviceApp",
            "event": kind,
            "orgId": ORG_ENCODED,
            "created": "2025-01-01T00:00:00.000Z",
        }))
        .unwrap()
    }

    /// One HTTP/1.1 request; the status and the body parsed as JSON.
    async fn post(
        addr: SocketAddr,
        method: &str,
        path: &str,
        body: &[u8],
        signed: bool,
    ) -> (u16, Value) {
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n",
            body.len()
        );
        if signed {
            let signature = WebhookVerifier::new(SECRET).sign(body);
            request.push_str(&format!("x-spark-signature: {signature}\r\n"));
        }
        request.push_str("\r\n");
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        stream.write_all(body).await.unwrap();
        let mut response = String::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(30),
            stream.read_to_string(&mut response),
        )
        .await
        .expect("answered in time")
        .unwrap();
        let status = response[9..12].parse().unwrap();
        let (_, body) = response.split_once("\r\n\r\n").unwrap();
        (status, serde_json::from_str(body).unwrap())
    }

    #[tokio::test]
    async fn signed_deliveries_register_and_forget_orgs_and_the_rest_is_refused() {
        let webex = WebexStandIn::start().await;
        // `authorized`: the SDK mints the org's Service App token with the Integration's bearer.
        Mock::given(m::method("POST"))
            .and(m::path(format!("/applications/{APPLICATION_ID}/token")))
            .and(m::bearer_token("int-access"))
            .and(m::body_json(json!({
                "clientId": "sa-id",
                "clientSecret": "sa-secret",
                "targetOrgId": ORG,
            })))
            .respond_with(responses::json(json!({
                "access_token": "sa-minted",
                "expires_in": 1_209_600,
                "token_type": "Bearer",
                "refresh_token": "sa-refresh",
                "refresh_token_expires_in": 7_776_000,
            })))
            .expect(1)
            .mount(webex.server())
            .await;
        let storage: Arc<dyn TokenStorage> = Arc::new(MemoryTokenStorage::new());
        storage
            .set_integration_tokens(
                &OAuthTokens::new("int-access", 1_209_600, time::OffsetDateTime::now_utc())
                    .with_refresh_token("int-refresh", Some(7_776_000)),
            )
            .await
            .unwrap();
        let byova = Byova::builder(
            IntegrationCredentials::new("int-id", "int-secret"),
            ServiceAppCredentials::new("sa-id", "sa-secret"),
        )
        .client(
            webex
                .client_builder()
                .retry_policy(RetryPolicy::disabled())
                .build()
                .unwrap(),
        )
        .storage(Arc::clone(&storage))
        .webhook_secret(SECRET)
        .build()
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve(listener, byova));
        let org: OrgId = ORG.parse().unwrap();

        // Unsigned: refused, nothing minted.
        let authorized = event("hook-1", "authorized");
        let (status, body) = post(addr, "POST", PATH, &authorized, false).await;
        assert_eq!(
            (status, body),
            (401, json!({ "error": "invalid signature" }))
        );
        assert!(storage.service_app_tokens(&org).await.unwrap().is_none());

        // Signed: the org is registered with its minted tokens.
        let (status, body) = post(addr, "POST", PATH, &authorized, true).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body,
            json!({ "status": "ok", "event": "authorized", "orgId": ORG })
        );
        let tokens = storage.service_app_tokens(&org).await.unwrap().unwrap();
        assert_eq!(tokens.access_token.expose(), "sa-minted");

        // Webex redelivers: nothing is minted again.
        let (status, body) = post(addr, "POST", PATH, &authorized, true).await;
        assert_eq!(status, 200);
        assert_eq!(body["status"], "duplicate", "{body}");
        assert!(
            body["eventId"].as_str().unwrap().starts_with("hook-1|"),
            "{body}"
        );

        // Deauthorized: the tokens are deleted.
        let deauthorized = event("hook-2", "deauthorized");
        let (status, body) = post(addr, "POST", PATH, &deauthorized, true).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body,
            json!({ "status": "ok", "event": "deauthorized", "orgId": ORG, "wasRegistered": true })
        );
        assert!(storage.service_app_tokens(&org).await.unwrap().is_none());

        // Signed, but not an event; wrong method; wrong path.
        let (status, _) = post(addr, "POST", PATH, b"{\"hello\":1}", true).await;
        assert_eq!(status, 400);
        let (status, _) = post(addr, "GET", PATH, b"", false).await;
        assert_eq!(status, 405);
        let (status, _) = post(addr, "POST", "/elsewhere", &deauthorized, true).await;
        assert_eq!(status, 404);

        server.abort();
        webex.verify().await;
    }
}
