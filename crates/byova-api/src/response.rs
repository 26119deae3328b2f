//! [`Response`]: a fully read HTTP response.

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{ApiError, Error, ErrorKind, redact_quoted};
use crate::pagination::next_link;
use crate::retry::parse_retry_after;

/// A response whose body has been read completely.
///
/// `Debug` shows the body's length only (token responses carry secrets).
#[derive(Clone)]
pub struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) tracking_id: String,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("tracking_id", &self.tracking_id)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl Response {
    /// The status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers (e.g. `Cache-Control`, `Link`, `Retry-After`).
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A header as text, if present and visible ASCII.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body.
    #[must_use]
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Takes the body.
    #[must_use]
    pub fn into_body(self) -> Bytes {
        self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The URL that was requested (the last attempt's).
    #[must_use]
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The `TrackingID` sent with the request that produced this response.
    #[must_use]
    pub fn tracking_id(&self) -> &str {
        &self.tracking_id
    }

    /// The `Link: <…>; rel="next"` URL, resolved against the request URL.
    #[must_use]
    pub fn next_link(&self) -> Option<Url> {
        next_link(&self.headers, &self.url)
    }

    /// Decodes the JSON body.
    ///
    /// Fails with [`ErrorKind::Decode`]; the message names the problem and position but never
    /// quotes values from the body.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::new(ErrorKind::Decode)
                .with_request(&self.method, self.url.path())
                .with_message(redact_quoted(&e.to_string()))
        })
    }

    /// `Ok(self)` for 2xx, else the typed error for the status.
    pub fn error_for_status(self) -> Result<Self, Error> {
        if self.status.is_success() {
            Ok(self)
        } else {
            Err(self.into_error())
        }
    }

    /// The typed error for this (non-2xx) response.
    #[must_use]
    pub fn into_error(self) -> Error {
        let retry_after = parse_retry_after(&self.headers, std::time::SystemTime::now());
        let api = ApiError::from_response(
            self.status,
            self.headers,
            &self.body,
            retry_after,
            Some(&self.tracking_id),
        );
        Error::from_api(api).with_request(&self.method, self.url.path())
    }
}
