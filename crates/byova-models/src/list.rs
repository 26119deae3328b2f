//! The `{"items": [...]}` envelope of Webex list responses.

use serde::{Deserialize, Serialize};

/// One page of a Webex list response: `{"items": [...]}`.
///
/// The link to the next page travels in the HTTP `Link` header, not in the body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemList<T> {
    /// The items of this page.
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
}
