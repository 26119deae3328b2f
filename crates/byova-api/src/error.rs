//! [`Error`]: what can go wrong talking to Webex, and the Webex error body ([`ApiError`]).

use std::fmt;
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};
use serde_json::Value;

/// A boxed error, the source type of [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error from a Webex REST call.
///
/// Opaque: ask [`kind`](Self::kind) or the `is_*` helpers; the Webex error body of a non-2xx
/// response is in [`api`](Self::api). `Display` shows the status, Webex's `message`, `errors` and
/// `trackingId` but never a bearer, client secret or request body. The exact text is not a stable
/// interface.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    /// `GET /v1/dataSources/` (path only, never the query).
    request: Option<String>,
    api: Option<ApiError>,
    message: Option<String>,
    source: Option<BoxError>,
}

/// The kind of an [`Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 401: the bearer was missing, expired or revoked (after one refresh and retry).
    Unauthorized,
    /// 403: the bearer lacks a scope or the org did not authorize the app.
    Forbidden,
    /// 404.
    NotFound,
    /// 400, 409 or 415: Webex rejected the request body or parameters.
    Validation,
    /// 429: rate limited, after the retries the policy allows.
    RateLimited {
        /// How long Webex asked to wait (`Retry-After`), when it said.
        retry_after: Option<Duration>,
    },
    /// 5xx, after the retries the policy allows.
    Server,
    /// Any other non-2xx status (3xx, 405, 410, 423, …).
    OtherStatus,
    /// No response within the per-request timeout.
    Timeout,
    /// Connecting, TLS, or the connection failed.
    Transport,
    /// The response body could not be read or decoded.
    Decode,
    /// The request or client configuration is invalid; nothing was sent.
    InvalidRequest,
    /// The [`TokenSource`](crate::TokenSource) could not supply a bearer.
    TokenSource,
}

impl ErrorKind {
    fn describe(self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not found",
            Self::Validation => "request rejected",
            Self::RateLimited { .. } => "rate limited",
            Self::Server => "server error",
            Self::OtherStatus => "unexpected status",
            Self::Timeout => "request timed out",
            Self::Transport => "transport error",
            Self::Decode => "could not decode response",
            Self::InvalidRequest => "invalid request",
            Self::TokenSource => "could not obtain a bearer token",
        }
    }

    /// The kind for a non-2xx status.
    #[must_use]
    pub fn from_status(status: StatusCode, retry_after: Option<Duration>) -> Self {
        match status.as_u16() {
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            400 | 409 | 415 => Self::Validation,
            429 => Self::RateLimited { retry_after },
            500..=599 => Self::Server,
            _ => Self::OtherStatus,
        }
    }
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                request: None,
                api: None,
                message: None,
                source: None,
            }),
        }
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    pub(crate) fn with_message(mut self, message: impl Into<String>) -> Self {
        self.inner.message = Some(message.into());
        self
    }

    pub(crate) fn with_request(mut self, method: &Method, path: &str) -> Self {
        self.inner.request = Some(format!("{method} {path}"));
        self
    }

    pub(crate) fn from_api(api: ApiError) -> Self {
        let mut err = Self::new(ErrorKind::from_status(api.status, api.retry_after));
        err.inner.api = Some(api);
        err
    }

    /// An error for a [`TokenSource`](crate::TokenSource) that could not supply a bearer; the
    /// cause stays reachable through [`source`](std::error::Error::source) and
    /// [`into_source`](Self::into_source). Keep secrets out of `source`'s `Display`.
    pub fn token_source(source: impl Into<BoxError>) -> Self {
        Self::new(ErrorKind::TokenSource).with_source(source)
    }

    /// An error for an invalid request or configuration (nothing was sent).
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest).with_message(message)
    }

    /// The kind of error.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The Webex error response, for non-2xx statuses.
    #[must_use]
    pub fn api(&self) -> Option<&ApiError> {
        self.inner.api.as_ref()
    }

    /// The HTTP status, for non-2xx responses.
    #[must_use]
    pub fn status(&self) -> Option<StatusCode> {
        self.api().map(ApiError::status)
    }

    /// Webex's `trackingId` (body, else response header, else the `TrackingID` we sent).
    #[must_use]
    pub fn tracking_id(&self) -> Option<&str> {
        self.api().and_then(ApiError::tracking_id)
    }

    /// How long Webex asked to wait, for 429s (and 503s that said).
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        self.api().and_then(ApiError::retry_after)
    }

    /// The underlying cause, e.g. the error of a [`TokenSource`](crate::TokenSource).
    #[must_use]
    pub fn into_source(self) -> Option<BoxError> {
        self.inner.source
    }

    /// 401.
    #[must_use]
    pub fn is_unauthorized(&self) -> bool {
        self.kind() == ErrorKind::Unauthorized
    }

    /// 403.
    #[must_use]
    pub fn is_forbidden(&self) -> bool {
        self.kind() == ErrorKind::Forbidden
    }

    /// 404.
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        self.kind() == ErrorKind::NotFound
    }

    /// 400, 409 or 415.
    #[must_use]
    pub fn is_validation(&self) -> bool {
        self.kind() == ErrorKind::Validation
    }

    /// 429.
    #[must_use]
    pub fn is_rate_limited(&self) -> bool {
        matches!(self.kind(), ErrorKind::RateLimited { .. })
    }

    /// 5xx.
    #[must_use]
    pub fn is_server(&self) -> bool {
        self.kind() == ErrorKind::Server
    }

    /// The per-request timeout elapsed.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        self.kind() == ErrorKind::Timeout
    }

    /// Connecting or the connection failed.
    #[must_use]
    pub fn is_transport(&self) -> bool {
        self.kind() == ErrorKind::Transport
    }

    /// The response body could not be read or decoded.
    #[must_use]
    pub fn is_decode(&self) -> bool {
        self.kind() == ErrorKind::Decode
    }

    /// The request or configuration was invalid.
    #[must_use]
    pub fn is_invalid_request(&self) -> bool {
        self.kind() == ErrorKind::InvalidRequest
    }

    /// The token source failed.
    #[must_use]
    pub fn is_token_source(&self) -> bool {
        self.kind() == ErrorKind::TokenSource
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.inner.kind.describe())?;
        if let Some(request) = &self.inner.request {
            write!(f, " ({request})")?;
        }
        if let Some(api) = &self.inner.api {
            write!(f, ": {api}")?;
        }
        if let Some(message) = &self.inner.message {
            write!(f, ": {message}")?;
        }
        // The whole cause chain: transport errors hide the useful part (e.g. "connection
        // refused") a few levels down.
        let mut cause = self
            .inner
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static));
        while let Some(err) = cause {
            write!(f, ": {err}")?;
            cause = err.source();
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind);
        if let Some(request) = &self.inner.request {
            d.field("request", request);
        }
        if let Some(api) = &self.inner.api {
            d.field("api", api);
        }
        if let Some(message) = &self.inner.message {
            d.field("message", message);
        }
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// The body of a non-2xx Webex response.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ApiErrorBody {
    /// No body.
    Empty,
    /// A JSON body (usually `{"message", "errors", "trackingId"}`).
    Json(Value),
    /// A body that is not JSON, kept as (lossy UTF-8) text.
    Text(String),
}

/// A non-2xx response from Webex: status, `message`, `errors`, `trackingId` and the whole body.
#[derive(Clone, Debug)]
pub struct ApiError {
    status: StatusCode,
    message: Option<String>,
    errors: Vec<Value>,
    tracking_id: Option<String>,
    retry_after: Option<Duration>,
    body: ApiErrorBody,
    headers: HeaderMap,
}

impl ApiError {
    /// Reads a Webex error response. `sent_tracking_id` is used when neither the body nor the
    /// response headers carry a tracking id.
    #[must_use]
    pub fn from_response(
        status: StatusCode,
        headers: HeaderMap,
        body: &[u8],
        retry_after: Option<Duration>,
        sent_tracking_id: Option<&str>,
    ) -> Self {
        let body = if body.iter().all(u8::is_ascii_whitespace) {
            ApiErrorBody::Empty
        } else {
            match serde_json::from_slice::<Value>(body) {
                Ok(json) => ApiErrorBody::Json(json),
                Err(_) => ApiErrorBody::Text(String::from_utf8_lossy(body).into_owned()),
            }
        };
        let object = match &body {
            ApiErrorBody::Json(Value::Object(map)) => Some(map),
            _ => None,
        };
        let str_field = |key: &str| {
            object
                .and_then(|map| map.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let message = str_field("message");
        let errors = object
            .and_then(|map| map.get("errors"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let tracking_id = str_field("trackingId")
            .or_else(|| {
                headers
                    .get("trackingid")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            })
            .or_else(|| sent_tracking_id.map(str::to_owned));
        Self {
            status,
            message,
            errors,
            tracking_id,
            retry_after,
            body,
            headers,
        }
    }

    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Webex's `message`.
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// Webex's `errors` (usually `[{"description": …}]`).
    #[must_use]
    pub fn errors(&self) -> &[Value] {
        &self.errors
    }

    /// Webex's `trackingId`: from the body, else the `trackingid` response header, else the
    /// `TrackingID` we sent.
    #[must_use]
    pub fn tracking_id(&self) -> Option<&str> {
        self.tracking_id.as_deref()
    }

    /// The `Retry-After` delay, when the response carried one.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The whole body.
    #[must_use]
    pub fn body(&self) -> &ApiErrorBody {
        &self.body
    }

    /// The response headers.
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

/// Longest piece of a text body shown in `Display`.
const TEXT_PREVIEW: usize = 200;

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        } else if let ApiErrorBody::Text(text) = &self.body {
            let text = text.trim();
            match text.char_indices().nth(TEXT_PREVIEW) {
                Some((cut, _)) => write!(f, ": {}…", &text[..cut])?,
                None => write!(f, ": {text}")?,
            }
        }
        let descriptions: Vec<&str> = self
            .errors
            .iter()
            .filter_map(|e| {
                e.get("description")
                    .and_then(Value::as_str)
                    .or_else(|| e.as_str())
            })
            .filter(|d| Some(*d) != self.message.as_deref())
            .collect();
        if !descriptions.is_empty() {
            write!(f, " (errors: {})", descriptions.join("; "))?;
        }
        if let Some(retry_after) = self.retry_after {
            write!(f, " (retry after {}s)", retry_after.as_secs_f64())?;
        }
        if let Some(tracking_id) = &self.tracking_id {
            write!(f, " [trackingId: {tracking_id}]")?;
        }
        Ok(())
    }
}

/// Replaces quoted fragments in a decode message (serde quotes offending values, which could be
/// tokens) with `"…"`.
pub(crate) fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_quotes = false;
    for c in message.chars() {
        match (c, in_quotes) {
            ('"', false) => {
                in_quotes = true;
                out.push_str("\"…");
            }
            ('"', true) => {
                in_quotes = false;
                out.push('"');
            }
            (c, false) => out.push(c),
            (_, true) => {}
        }
    }
    if in_quotes {
        out.push('"');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_redacted() {
        assert_eq!(
            redact_quoted(r#"invalid type: string "eyJsecret", expected u32 at line 1 column 9"#),
            r#"invalid type: string "…", expected u32 at line 1 column 9"#
        );
        assert_eq!(redact_quoted("missing field `id`"), "missing field `id`");
    }

    #[test]
    fn text_body_preview_is_cut() {
        let body = "x".repeat(500);
        let api = ApiError::from_response(
            StatusCode::BAD_GATEWAY,
            HeaderMap::new(),
            body.as_bytes(),
            None,
            None,
        );
        assert_eq!(api.body(), &ApiErrorBody::Text(body));
        let shown = api.to_string();
        assert!(shown.starts_with("HTTP 502 Bad Gateway: xxx"));
        assert!(shown.len() < 260, "{shown}");
    }

    #[test]
    fn header_tracking_id_is_the_fallback() {
        let mut headers = HeaderMap::new();
        headers.insert("trackingid", "ROUTER_H".parse().unwrap());
        let api =
            ApiError::from_response(StatusCode::NOT_FOUND, headers, b"{}", None, Some("mine"));
        assert_eq!(api.tracking_id(), Some("ROUTER_H"));
        let api = ApiError::from_response(
            StatusCode::NOT_FOUND,
            HeaderMap::new(),
            b"",
            None,
            Some("mine"),
        );
        assert_eq!(api.tracking_id(), Some("mine"));
        assert_eq!(api.body(), &ApiErrorBody::Empty);
    }
}
