//! The Webex REST resources BYOVA / BYODS use, with the methods, paths and bodies of the Python
//! SDK (python-sdk.md §2.3).

mod applications;
mod data_sources;
mod oauth;
mod schemas;
mod webhooks;

pub use applications::Applications;
pub use data_sources::{DataSources, new_nonce};
pub use oauth::OAuth;
pub use schemas::Schemas;
pub use webhooks::Webhooks;

use crate::error::Error;

/// Percent-encodes one path segment (everything but RFC 3986 unreserved characters), so that an
/// id can never change the path or add a query.
pub(crate) fn segment(value: &str) -> Result<String, Error> {
    if value.is_empty() {
        return Err(Error::invalid_request("an id in the request path is empty"));
    }
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::segment;

    #[test]
    fn segments_cannot_escape_the_path() {
        assert_eq!(segment("ds-1").unwrap(), "ds-1");
        assert_eq!(segment("../x?y=1#z").unwrap(), "..%2Fx%3Fy%3D1%23z");
        assert_eq!(segment("Y2lz+/=").unwrap(), "Y2lz%2B%2F%3D");
        assert!(segment("").unwrap_err().is_invalid_request());
    }
}
