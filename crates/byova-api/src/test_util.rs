//! A Webex stand-in on `127.0.0.1` for offline tests (feature `test-util`).
//!
//! [`WebexStandIn`] wraps a [`wiremock::MockServer`] with a catch-all mock: any request that no
//! mock of the test matches gets a `599` with a descriptive JSON body **and is recorded**, and the
//! stand-in panics on drop (or in [`verify`](WebexStandIn::verify)) if anything was recorded. So a
//! request the test did not expect fails the test even when the code under test swallows the
//! error. Mock expectations (`.expect(n)`) are checked by wiremock on drop as usual.
//!
//! ```
//! use byova_api::StaticToken;
//! use byova_api::test_util::{WebexStandIn, matchers as m, wiremock::{Mock, ResponseTemplate}};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let webex = WebexStandIn::start().await;
//! Mock::given(m::method("GET"))
//!     .and(m::path("/dataSources/ds-1"))
//!     .and(m::bearer_token("sa-token"))
//!     .and(m::tracking_id())
//!     .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "ds-1"})))
//!     .expect(1)
//!     .mount(webex.server())
//!     .await;
//!
//! let ds = webex.client().data_sources(StaticToken::new("sa-token")).get("ds-1").await.unwrap();
//! assert_eq!(ds.id, "ds-1");
//! webex.verify().await;
//! # }
//! ```
//!
//! With `tokio::time::pause`, use [`client`](WebexStandIn::client) /
//! [`client_builder`](WebexStandIn::client_builder): they turn off the connect and request
//! timeouts and the pool's idle timer, because a paused clock jumps to the next pending timer
//! whenever the runtime waits for the socket. Set a timeout explicitly only in tests about
//! timeouts.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::json;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::client::{Client, ClientBuilder};

pub use wiremock;

/// Status of the catch-all response (outside the range Webex uses).
pub const UNEXPECTED_STATUS: u16 = 599;

/// A request no mock matched.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnexpectedRequest {
    /// Method.
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Headers (`authorization` redacted).
    pub headers: Vec<(String, String)>,
    /// Body as (lossy) text.
    pub body: String,
}

impl fmt::Display for UnexpectedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.target)?;
        for (name, value) in &self.headers {
            write!(f, "\n    {name}: {value}")?;
        }
        if !self.body.is_empty() {
            write!(f, "\n    body: {}", self.body)?;
        }
        Ok(())
    }
}

/// A Webex stand-in on `127.0.0.1`: a wiremock server whose catch-all fails the test on any
/// unexpected request. See the [module docs](self).
pub struct WebexStandIn {
    server: MockServer,
    unexpected: Arc<Mutex<Vec<UnexpectedRequest>>>,
}

struct CatchAll {
    unexpected: Arc<Mutex<Vec<UnexpectedRequest>>>,
}

impl Respond for CatchAll {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let target = match request.url.query() {
            Some(query) => format!("{}?{query}", request.url.path()),
            None => request.url.path().to_owned(),
        };
        let mut headers: Vec<(String, String)> = request
            .headers
            .iter()
            .map(|(name, value)| {
                let value = if name == http::header::AUTHORIZATION {
                    "[redacted]".to_owned()
                } else {
                    String::from_utf8_lossy(value.as_bytes()).into_owned()
                };
                (name.as_str().to_owned(), value)
            })
            .collect();
        headers.sort();
        let unexpected = UnexpectedRequest {
            method: request.method.to_string(),
            target,
            headers,
            body: String::from_utf8_lossy(&request.body).into_owned(),
        };
        let message = format!(
            "byova test stand-in: no mock matched {} {}",
            unexpected.method, unexpected.target
        );
        self.unexpected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(unexpected);
        ResponseTemplate::new(UNEXPECTED_STATUS).set_body_json(json!({
            "message": message,
            "trackingId": "BYOVA_STAND_IN",
        }))
    }
}

impl WebexStandIn {
    /// Starts a fresh server on `127.0.0.1` with the catch-all mounted.
    pub async fn start() -> Self {
        let server = MockServer::builder().start().await;
        let unexpected = Arc::new(Mutex::new(Vec::new()));
        Mock::given(wiremock::matchers::any())
            .respond_with(CatchAll {
                unexpected: Arc::clone(&unexpected),
            })
            .with_priority(u8::MAX)
            .named("byova catch-all (unexpected request)")
            .mount(&server)
            .await;
        Self { server, unexpected }
    }

    /// The wiremock server, to mount mocks on.
    #[must_use]
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    #[must_use]
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// An absolute URL for `path` on the stand-in.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.server.uri(), path.trim_start_matches('/'))
    }

    /// A builder for a [`Client`] pointed at the stand-in, with no connect timeout, no request
    /// timeout and no pool idle timer (safe under `tokio::time::pause`).
    pub fn client_builder(&self) -> ClientBuilder {
        Client::builder()
            .base_url(self.server.uri())
            .timeout(None)
            .connect_timeout(None)
            .pool_idle_timeout(None)
    }

    /// A [`Client`] pointed at the stand-in (see [`client_builder`](Self::client_builder)).
    ///
    /// # Panics
    /// Never in practice: the stand-in's URL is always a valid base URL.
    #[must_use]
    pub fn client(&self) -> Client {
        self.client_builder()
            .build()
            .expect("the stand-in URL is a valid base URL")
    }

    /// Requests no mock matched, so far.
    #[must_use]
    pub fn unexpected_requests(&self) -> Vec<UnexpectedRequest> {
        self.unexpected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Panics if any request was unexpected or any mock's `.expect(n)` is unmet.
    ///
    /// # Panics
    /// See above; the message lists the unexpected requests.
    pub async fn verify(&self) {
        self.assert_no_unexpected();
        self.server.verify().await;
    }

    fn assert_no_unexpected(&self) {
        let unexpected = self.unexpected_requests();
        assert!(
            unexpected.is_empty(),
            "the Webex stand-in received {} unexpected request(s):\n{}",
            unexpected.len(),
            unexpected
                .iter()
                .map(|r| format!("  {r}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

impl Drop for WebexStandIn {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.assert_no_unexpected();
        }
    }
}

impl fmt::Debug for WebexStandIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebexStandIn")
            .field("uri", &self.server.uri())
            .field("unexpected", &self.unexpected_requests().len())
            .finish()
    }
}

/// Responses shaped like Webex's.
pub mod responses {
    use serde_json::json;
    use wiremock::ResponseTemplate;

    /// A 200 with a JSON body.
    pub fn json(body: serde_json::Value) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(body)
    }

    /// A 200 list page `{"items": [...]}`, with `Link: <next>; rel="next"` when `next` is given.
    pub fn page(items: Vec<serde_json::Value>, next: Option<&str>) -> ResponseTemplate {
        let template = ResponseTemplate::new(200).set_body_json(json!({ "items": items }));
        match next {
            Some(next) => template.insert_header("link", format!("<{next}>; rel=\"next\"")),
            None => template,
        }
    }

    /// A Webex error body `{"message", "errors": [{"description"}], "trackingId"}`.
    pub fn error(status: u16, message: &str, tracking_id: &str) -> ResponseTemplate {
        ResponseTemplate::new(status).set_body_json(json!({
            "message": message,
            "errors": [{ "description": message }],
            "trackingId": tracking_id,
        }))
    }
}

/// wiremock's matchers plus a few for what byova-rs sends.
pub mod matchers {
    pub use wiremock::matchers::*;
    use wiremock::{Match, Request};

    /// `TrackingID: byova-rs_<uuid>_<attempt>`.
    pub fn tracking_id() -> HeaderRegexMatcher {
        header_regex(
            "trackingid",
            "^byova-rs_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}_[0-9]+$",
        )
    }

    /// `User-Agent: byova-rs/<version>`.
    pub fn user_agent() -> HeaderExactMatcher {
        header("user-agent", crate::client::USER_AGENT)
    }

    /// `Content-Type: application/json`.
    pub fn json_content() -> HeaderExactMatcher {
        header("content-type", "application/json")
    }

    /// `Content-Type: application/x-www-form-urlencoded`.
    pub fn form_content() -> HeaderExactMatcher {
        header("content-type", "application/x-www-form-urlencoded")
    }

    /// The header is absent.
    pub fn no_header(name: &'static str) -> NoHeader {
        NoHeader(name)
    }

    /// Matches requests without the header `0`.
    #[derive(Debug)]
    pub struct NoHeader(&'static str);

    impl Match for NoHeader {
        fn matches(&self, request: &Request) -> bool {
            !request.headers.contains_key(self.0)
        }
    }

    /// The query is exactly these pairs, in this order (none for `&[]`).
    pub fn exact_query(pairs: &[(&str, &str)]) -> ExactQuery {
        ExactQuery(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    /// Matches requests whose decoded query pairs equal `0`.
    #[derive(Debug)]
    pub struct ExactQuery(Vec<(String, String)>);

    impl Match for ExactQuery {
        fn matches(&self, request: &Request) -> bool {
            let pairs: Vec<(String, String)> = request
                .url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            pairs == self.0
        }
    }
}
