//! The `TrackingID` header: `byova-rs_<uuid v4>_<attempt>`, fresh for every request.

use uuid::Uuid;

/// Name of the request header.
pub(crate) const HEADER: &str = "trackingid";

/// A fresh id for one logical request; attempts append `_<n>`.
pub(crate) fn new_request_id() -> String {
    format!("byova-rs_{}", Uuid::new_v4())
}

/// The header value of attempt `attempt` (1-based) of request `request_id`.
pub(crate) fn attempt_id(request_id: &str, attempt: u32) -> String {
    format!("{request_id}_{attempt}")
}
