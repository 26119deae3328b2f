//! Webex REST transport for BYOVA / BYODS: a pooled hyper client over rustls (ring), typed
//! errors, retries, pagination, and the data-source, schema, webhook, application-token and
//! OAuth-token resources.
//!
//! * [`Client`] / [`ClientBuilder`]: base URL, per-request timeout, HTTP/1.1 + HTTP/2 pool,
//!   `User-Agent: byova-rs/<version>`, a fresh `TrackingID` per request (in a tracing span).
//! * [`TokenSource`]: where the bearer comes from ([`StaticToken`], or byova-auth's refreshing
//!   managers). A 401 forces exactly one refresh and one retry; a 403 does not.
//! * [`RetryPolicy`]: 429 honours `Retry-After`, 502/503/504 and connection failures back off
//!   with jitter; idempotent methods only unless a request opts in.
//! * [`ListRequest`]: follows `Link: rel="next"` lazily; `.await` collects every page.
//! * [`Error`] / [`ErrorKind`] / [`ApiError`]: status, Webex `message`, `errors`, `trackingId`.
//! * [`RequestBuilder`]: the raw path (any method, path or absolute URL, query, JSON or form
//!   body), used by the resources and by other crates.
//! * Feature `test-util`: [`test_util::WebexStandIn`], a Webex stand-in on 127.0.0.1.
//!
//! ```no_run
//! use byova_api::{Client, StaticToken};
//! use byova_models::{BYOVA_SCHEMA_ID, DataSourceCreate};
//!
//! # async fn run() -> Result<(), byova_api::Error> {
//! let client = Client::new()?;
//! let data_sources = client.data_sources(StaticToken::new("service-app-access-token"));
//! let created = data_sources
//!     .create(&DataSourceCreate::new(
//!         BYOVA_SCHEMA_ID,
//!         "https://va.example.com:443",
//!         "BYOVAGateway",
//!         "callAudioData",
//!         byova_api::new_nonce(),
//!         1440,
//!     ))
//!     .await?;
//! // Later, before `tokenExpiryTime`:
//! let renewed = data_sources.renew(&created, 1440).await?;
//! println!("JWS valid until {:?}", renewed.token_expiry_time);
//! # Ok(()) }
//! ```
//!
//! Errors keep what Webex said:
//!
//! ```
//! use byova_api::{ApiError, ErrorKind};
//! use http::{HeaderMap, StatusCode};
//!
//! let api = ApiError::from_response(
//!     StatusCode::NOT_FOUND,
//!     HeaderMap::new(),
//!     br#"{"message":"Data source not found","trackingId":"ROUTER_123"}"#,
//!     None,
//!     None,
//! );
//! assert_eq!(api.to_string(), "HTTP 404 Not Found: Data source not found [trackingId: ROUTER_123]");
//! assert_eq!(ErrorKind::from_status(api.status(), None), ErrorKind::NotFound);
//! ```

mod client;
mod error;
mod pagination;
mod request;
mod resources;
mod response;
mod retry;
mod token_source;
mod tracking;

#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod test_util;

pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL, USER_AGENT};
pub use error::{ApiError, ApiErrorBody, BoxError, Error, ErrorKind};
pub use pagination::{ListRequest, Page};
pub use request::RequestBuilder;
pub use resources::{Applications, DataSources, OAuth, Schemas, Webhooks, new_nonce};
pub use response::Response;
pub use retry::{RetryEvent, RetryPolicy, RetryReason};
pub use token_source::{BoxFuture, StaticToken, TokenSource};

pub use byova_models as models;
pub use http::{Method, StatusCode};
