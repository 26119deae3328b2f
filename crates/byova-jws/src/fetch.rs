//! The seam between the key-set cache and HTTP: one GET of a key-set URL.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;

/// A boxed, sendable future (the seam is object-safe so the cache can hold any transport).
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Fetches a key-set document. Implementations return the raw response, whatever its status;
/// transport failures are an error message (which must not contain credentials).
pub(crate) trait FetchKeySet: fmt::Debug + Send + Sync + 'static {
    fn get<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<http::Response<Bytes>, String>>;
}
