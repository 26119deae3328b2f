//! gRPC trailers-only error responses, built without tonic.

use std::fmt::Write as _;

use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};

use super::body::JwsAuthBody;

/// The gRPC status codes this layer answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    /// `UNAVAILABLE` (14): no key set could be fetched; the caller may retry.
    Unavailable = 14,
    /// `UNAUTHENTICATED` (16): the token is missing or failed verification.
    Unauthenticated = 16,
}

/// A trailers-only response: HTTP 200 with `grpc-status` and `grpc-message` in the headers and
/// no body, which gRPC clients read as the call's final status.
pub(crate) fn error_response<B>(code: Code, message: &str) -> Response<JwsAuthBody<B>> {
    let mut response = Response::new(JwsAuthBody::empty());
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    headers.insert(
        "grpc-status",
        HeaderValue::from_static(match code {
            Code::Unavailable => "14",
            Code::Unauthenticated => "16",
        }),
    );
    if let Ok(value) = HeaderValue::from_str(&percent_encode(message)) {
        headers.insert("grpc-message", value);
    }
    response
}

/// Percent-encodes a `grpc-message`: bytes outside printable ASCII, and `%`, become `%XX`.
fn percent_encode(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for byte in message.bytes() {
        if (0x20..=0x7e).contains(&byte) && byte != b'%' {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_per_the_grpc_spec() {
        assert_eq!(percent_encode("plain text: ok"), "plain text: ok");
        assert_eq!(percent_encode("100%\n`é`"), "100%25%0A`%C3%A9`");
    }

    #[test]
    fn trailers_only_shape() {
        let response = error_response::<()>(Code::Unauthenticated, "no token");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/grpc");
        assert_eq!(response.headers()["grpc-status"], "16");
        assert_eq!(response.headers()["grpc-message"], "no token");
        assert!(response.body().is_rejection());
        let response = error_response::<()>(Code::Unavailable, "later");
        assert_eq!(response.headers()["grpc-status"], "14");
    }
}
