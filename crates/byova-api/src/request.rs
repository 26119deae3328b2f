//! [`RequestBuilder`]: the raw request path every resource call goes through.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use byova_models::Secret;
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use http_body_util::{BodyExt as _, Full, Limited};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument as _;
use url::Url;

use crate::client::Client;
use crate::error::{Error, ErrorKind};
use crate::response::Response;
use crate::retry::{RetryEvent, RetryPolicy, RetryReason, is_idempotent};
use crate::token_source::TokenSource;
use crate::tracking;

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

struct Body {
    bytes: Bytes,
    content_type: &'static str,
}

/// One request: method, target, optional bearer, query, JSON or form body, and retry options.
///
/// `.await` it (or call [`send`](Self::send)) for a 2xx [`Response`] or a typed [`Error`];
/// [`send_raw`](Self::send_raw) returns non-2xx responses too; [`json`](Self::json) decodes the
/// body.
///
/// ```no_run
/// # async fn run(client: byova_api::Client) -> Result<(), byova_api::Error> {
/// use byova_api::StaticToken;
///
/// let me: serde_json::Value = client
///     .get("/people/me")
///     .bearer(StaticToken::new("token"))
///     .query("callingData", "false")
///     .json()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "requests do nothing unless sent"]
pub struct RequestBuilder {
    client: Client,
    method: Method,
    target: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Result<Option<Body>, Error>,
    auth: Option<Arc<dyn TokenSource>>,
    retry_non_idempotent: bool,
    retry: Option<RetryPolicy>,
    timeout: Option<Option<Duration>>,
}

impl RequestBuilder {
    pub(crate) fn new(client: Client, method: Method, target: String) -> Self {
        Self {
            client,
            method,
            target,
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Ok(None),
            auth: None,
            retry_non_idempotent: false,
            retry: None,
            timeout: None,
        }
    }

    /// Sends `Authorization: Bearer <token>` from `source` (refreshed once on a 401).
    ///
    /// The bearer is only ever sent to the base URL's origin.
    pub fn bearer(self, source: impl TokenSource + 'static) -> Self {
        self.bearer_arc(Arc::new(source))
    }

    /// [`bearer`](Self::bearer) with a shared source.
    pub fn bearer_arc(mut self, source: Arc<dyn TokenSource>) -> Self {
        self.auth = Some(source);
        self
    }

    /// Appends a query parameter.
    pub fn query(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.query.push((key.into(), value.to_string()));
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// A JSON body (`Content-Type: application/json`).
    pub fn json_body<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        self.body = serde_json::to_vec(body)
            .map(|bytes| {
                Some(Body {
                    bytes: bytes.into(),
                    content_type: JSON,
                })
            })
            .map_err(|e| {
                Error::invalid_request("could not serialise the JSON body").with_source(e)
            });
        self
    }

    /// A form body (`Content-Type: application/x-www-form-urlencoded`), fields in order.
    pub fn form<I, K, V>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.body = Ok(Some(Body {
            bytes: encoded.into(),
            content_type: FORM,
        }));
        self
    }

    /// Allows retrying a non-idempotent method (POST, PATCH) on 429, 502–504 and transport
    /// failures. Only for requests that are safe to repeat.
    pub fn retry_non_idempotent(mut self, allow: bool) -> Self {
        self.retry_non_idempotent = allow;
        self
    }

    /// Overrides the client's retry policy for this request.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Overrides the client's per-attempt timeout for this request.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends the request: a 2xx response, or the typed error of the final attempt.
    pub async fn send(self) -> Result<Response, Error> {
        self.execute().await?.error_for_status()
    }

    /// Sends the request and returns the final response whatever its status (after retries and
    /// the 401 refresh). Only failures without a response are errors.
    pub async fn send_raw(self) -> Result<Response, Error> {
        self.execute().await
    }

    /// Sends the request and decodes the 2xx JSON body.
    pub async fn json<T: DeserializeOwned>(self) -> Result<T, Error> {
        self.send().await?.json()
    }

    async fn execute(self) -> Result<Response, Error> {
        let Self {
            client,
            method,
            target,
            query,
            headers,
            body,
            auth,
            retry_non_idempotent,
            retry,
            timeout,
        } = self;
        let body = body?;
        let mut url = client.resolve(&target, auth.is_some())?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(&query);
        }
        let inner = client.inner();
        let policy = retry.as_ref().unwrap_or(&inner.retry);
        let timeout = timeout.unwrap_or(inner.timeout);
        let may_repeat = retry_non_idempotent || is_idempotent(&method);
        let started = Instant::now();
        let deadline = policy.deadline_budget().map(|budget| started + budget);
        let request_id = tracking::new_request_id();

        let mut attempt = 0_u32;
        let mut retries = 0_u32;
        let mut refreshed = false;
        let mut token: Option<Secret> = None;
        loop {
            attempt += 1;
            if token.is_none()
                && let Some(source) = &auth
            {
                token = Some(source.token().await?);
            }
            let tracking_id = tracking::attempt_id(&request_id, attempt);
            let span = tracing::info_span!(
                "webex_request",
                method = %method,
                path = url.path(),
                tracking_id = %tracking_id,
                attempt,
                status = tracing::field::Empty,
            );
            let attempt_timeout = match (timeout, deadline) {
                (Some(t), Some(d)) => Some(t.min(d.saturating_duration_since(Instant::now()))),
                (t, _) => t,
            };
            let outcome = send_once(
                &client,
                Attempt {
                    method: &method,
                    url: &url,
                    extra_headers: &headers,
                    body: body.as_ref(),
                    token: token.as_ref(),
                    tracking_id: &tracking_id,
                    timeout: attempt_timeout,
                },
            )
            .instrument(span.clone())
            .await;

            let (reason, delay, last) = match outcome {
                Ok(response) => {
                    let status = response.status;
                    span.record("status", status.as_u16());
                    if status.is_success() {
                        return Ok(response);
                    }
                    if status == http::StatusCode::UNAUTHORIZED
                        && !refreshed
                        && let (Some(source), Some(rejected)) = (&auth, token.take())
                    {
                        refreshed = true;
                        match source.refresh(&rejected).await? {
                            Some(fresh) if fresh != rejected => {
                                tracing::debug!(parent: &span, "401: retrying once with a refreshed token");
                                token = Some(fresh);
                                continue;
                            }
                            _ => return Ok(response),
                        }
                    }
                    if !may_repeat {
                        return Ok(response);
                    }
                    match policy.delay_for_status(status, &response.headers, retries + 1) {
                        Some((reason, delay)) => (reason, delay, Ok(response)),
                        None => return Ok(response),
                    }
                }
                Err(failure) => {
                    if !(failure.error.is_transport() && (failure.connect || may_repeat)) {
                        return Err(failure.error);
                    }
                    let reason = if failure.connect {
                        RetryReason::Connect
                    } else {
                        RetryReason::Transport
                    };
                    (reason, policy.backoff_for(retries + 1), Err(failure.error))
                }
            };
            if retries + 1 >= policy.attempts()
                || deadline
                    .is_some_and(|d| Instant::now().checked_add(delay).is_none_or(|at| at > d))
            {
                // Out of attempts or time: report the last outcome.
                return last;
            }
            retries += 1;
            tracing::info!(parent: &span, ?reason, ?delay, "retrying Webex request");
            policy.notify(&RetryEvent {
                attempt,
                method: method.clone(),
                path: url.path().to_owned(),
                reason,
                delay,
                tracking_id,
            });
            tokio::time::sleep(delay).await;
        }
    }
}

impl IntoFuture for RequestBuilder {
    type Output = Result<Response, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("bearer", &self.auth.is_some())
            .field("retry_non_idempotent", &self.retry_non_idempotent)
            .finish_non_exhaustive()
    }
}

struct Attempt<'a> {
    method: &'a Method,
    url: &'a Url,
    extra_headers: &'a HeaderMap,
    body: Option<&'a Body>,
    token: Option<&'a Secret>,
    tracking_id: &'a str,
    timeout: Option<Duration>,
}

/// A failed attempt without a response.
struct Failure {
    error: Error,
    /// The connection was never established, so nothing was sent.
    connect: bool,
}

async fn send_once(client: &Client, attempt: Attempt<'_>) -> Result<Response, Failure> {
    let fail = |error: Error| Failure {
        error: error.with_request(attempt.method, attempt.url.path()),
        connect: false,
    };
    let request = build_request(client, &attempt).map_err(fail)?;
    let inner = client.inner();
    let exchange = async {
        let response = inner.transport.request(request).await.map_err(|e| {
            let connect = e.is_connect();
            Failure {
                error: Error::new(ErrorKind::Transport)
                    .with_request(attempt.method, attempt.url.path())
                    .with_source(e),
                connect,
            }
        })?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, inner.max_response_bytes)
            .collect()
            .await
            .map_err(|e| {
                let kind = if e.is::<http_body_util::LengthLimitError>() {
                    ErrorKind::Decode
                } else {
                    ErrorKind::Transport
                };
                fail(Error::new(kind).with_source(e))
            })?
            .to_bytes();
        tracing::debug!(
            status = parts.status.as_u16(),
            bytes = body.len(),
            "Webex response"
        );
        Ok(Response {
            status: parts.status,
            headers: parts.headers,
            body,
            method: attempt.method.clone(),
            url: attempt.url.clone(),
            tracking_id: attempt.tracking_id.to_owned(),
        })
    };
    match attempt.timeout {
        Some(limit) => tokio::time::timeout(limit, exchange).await.map_err(|_| {
            fail(
                Error::new(ErrorKind::Timeout)
                    .with_message(format!("no response within {limit:?}")),
            )
        })?,
        None => exchange.await,
    }
}

fn build_request(
    client: &Client,
    attempt: &Attempt<'_>,
) -> Result<http::Request<Full<Bytes>>, Error> {
    let inner = client.inner();
    let uri = http::Uri::try_from(attempt.url.as_str())
        .map_err(|e| Error::invalid_request("invalid URL").with_source(e))?;
    let mut request = http::Request::builder()
        .method(attempt.method.clone())
        .uri(uri)
        .body(Full::new(
            attempt.body.map(|b| b.bytes.clone()).unwrap_or_default(),
        ))
        .map_err(|e| Error::invalid_request("invalid request").with_source(e))?;
    let headers = request.headers_mut();
    headers.insert(USER_AGENT, inner.user_agent.clone());
    headers.insert(ACCEPT, HeaderValue::from_static(JSON));
    headers.insert(
        HeaderName::from_static(tracking::HEADER),
        HeaderValue::try_from(attempt.tracking_id)
            .map_err(|_| Error::invalid_request("invalid TrackingID"))?,
    );
    if let Some(body) = attempt.body {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(body.content_type));
    }
    headers.extend(attempt.extra_headers.clone());
    if let Some(token) = attempt.token {
        let mut value = HeaderValue::try_from(format!("Bearer {}", token.expose()))
            .map_err(|_| Error::invalid_request("the bearer token contains invalid characters"))?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    Ok(request)
}
