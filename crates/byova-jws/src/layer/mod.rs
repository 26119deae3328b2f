//! gRPC authentication for tower-based servers such as tonic (feature `tower`).

mod auth_layer;
mod body;
mod grpc;
mod service;

pub use auth_layer::{DEFAULT_EXEMPT_PREFIXES, JwsAuthLayer};
pub use body::JwsAuthBody;
pub use service::{JwsAuth, ResponseFuture};
