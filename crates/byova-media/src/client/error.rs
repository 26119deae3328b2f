//! [`ClientError`]: why a caller could not be set up.

use tonic::metadata::{Ascii, MetadataValue};

/// Why a caller could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The endpoint URI is invalid or the connection failed.
    #[error("cannot connect to the media server")]
    Connect(#[source] tonic::transport::Error),
    /// The token cannot be sent as gRPC metadata (it holds characters outside visible ASCII).
    #[error("the token is not valid gRPC metadata")]
    InvalidToken,
    /// The target address cannot be parsed.
    #[error("invalid target {0}")]
    InvalidTarget(String),
    /// A load or call setting is unusable (the message says which).
    #[error("{0}")]
    InvalidConfig(String),
}

/// `Bearer <token>` as gRPC metadata.
pub(crate) fn bearer(token: &str) -> Result<MetadataValue<Ascii>, ClientError> {
    format!("Bearer {token}")
        .parse()
        .map_err(|_| ClientError::InvalidToken)
}
