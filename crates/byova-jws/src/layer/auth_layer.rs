//! The tower [`Layer`] that puts JWS authentication in front of a gRPC service.

use std::sync::Arc;

use tower_layer::Layer;

use super::service::JwsAuth;
use crate::verifier::Verifier;

/// Path prefixes that pass without a token by default: gRPC health checks (load-balancer
/// probes) and server reflection.
pub const DEFAULT_EXEMPT_PREFIXES: [&str; 2] = ["/grpc.health.v1.Health/", "/grpc.reflection."];

/// Authenticates every gRPC request with the JWS in its `authorization` metadata.
///
/// Works with any tower-based HTTP server; with tonic:
///
/// ```no_run
/// # async fn run(verifier: byova_jws::Verifier) -> Result<(), Box<dyn std::error::Error>> {
/// use byova_jws::JwsAuthLayer;
///
/// let (_reporter, health) = tonic_health::server::health_reporter();
/// tonic::transport::Server::builder()
///     .layer(JwsAuthLayer::new(verifier))
///     .add_service(health)
///     .serve("127.0.0.1:50051".parse()?)
///     .await?;
/// # Ok(())
/// # }
/// ```
///
/// A request without a valid token gets a trailers-only response with `grpc-status` 16
/// (`UNAUTHENTICATED`), or 14 (`UNAVAILABLE`) when the issuer's key set could never be fetched.
/// A verified request reaches the service with the [`Claims`](crate::Claims) in its extensions
/// (in a tonic handler: `request.extensions().get::<byova_jws::Claims>()`). Failures are logged
/// at `warn` with the full detail; the caller only learns the kind of failure.
#[derive(Debug, Clone)]
pub struct JwsAuthLayer {
    verifier: Verifier,
    exempt: Arc<[String]>,
}

impl JwsAuthLayer {
    /// A layer verifying with `verifier`, exempting [`DEFAULT_EXEMPT_PREFIXES`].
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            exempt: DEFAULT_EXEMPT_PREFIXES
                .iter()
                .map(|prefix| (*prefix).to_owned())
                .collect(),
        }
    }

    /// Replaces the exempt path prefixes (an empty list authenticates every request).
    #[must_use]
    pub fn exempt_prefixes<I, P>(mut self, prefixes: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.exempt = prefixes.into_iter().map(Into::into).collect();
        self
    }

    /// Adds an exempt path prefix, e.g. `/my.package.Public/`.
    #[must_use]
    pub fn exempt(mut self, prefix: impl Into<String>) -> Self {
        let mut prefixes = self.exempt.to_vec();
        prefixes.push(prefix.into());
        self.exempt = prefixes.into();
        self
    }

    /// The exempt path prefixes.
    pub fn exempt_list(&self) -> &[String] {
        &self.exempt
    }
}

impl<S> Layer<S> for JwsAuthLayer {
    type Service = JwsAuth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        JwsAuth::new(inner, self.verifier.clone(), Arc::clone(&self.exempt))
    }
}
