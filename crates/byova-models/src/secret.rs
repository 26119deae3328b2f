//! [`Secret`]: a string that never shows itself in `Debug` output.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A secret string: a client secret, an access or refresh token, a JWS.
///
/// `Debug` prints `Secret([redacted])`; there is deliberately no `Display`. Serde writes and reads
/// the real value (token storage persists it), so only hand serialised forms to trusted sinks.
/// Read the value with [`expose`](Self::expose).
///
/// ```
/// use byova_models::Secret;
///
/// let token = Secret::new("abc123");
/// assert_eq!(token.expose(), "abc123");
/// assert_eq!(format!("{token:?}"), "Secret([redacted])");
/// assert_eq!(serde_json::to_string(&token).unwrap(), r#""abc123""#);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The real value. Keep it out of logs and error messages.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Unwraps the real value.
    #[must_use]
    pub fn into_inner(self) -> String {
        self.0
    }

    /// Whether the value is the empty string.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_even_nested() {
        let secret = Secret::new("hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert!(!format!("{:#?}", Some(vec![secret])).contains("hunter2"));
    }
}
