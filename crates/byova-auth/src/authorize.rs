//! The Integration's OAuth authorization URL (with optional PKCE).

use url::Url;

use crate::error::{Error, ErrorKind, Result};
use crate::pkce::{PkceVerifier, random_state};

/// Webex's authorization endpoint.
pub const DEFAULT_AUTHORIZE_URL: &str = "https://webexapis.com/v1/authorize";

/// The scopes asked for when none are given: enough to mint Service App tokens and manage webhooks.
pub const DEFAULT_SCOPES: [&str; 4] = [
    "spark:all",
    "spark:applications_token",
    "application:webhooks_write",
    "application:webhooks_read",
];

/// One authorization attempt: the URL to open, plus what the callback must be checked against.
///
/// Keep it until the code comes back: the code exchange needs [`state`](Self::state) (to check
/// the redirect) and, with PKCE, the [`pkce_verifier`](Self::pkce_verifier).
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    url: Url,
    state: String,
    redirect_uri: Url,
    pkce: Option<PkceVerifier>,
}

impl AuthorizationRequest {
    /// Starts a request for `client_id`, coming back to `redirect_uri`, at the given authorization
    /// endpoint (usually [`DEFAULT_AUTHORIZE_URL`]).
    pub fn builder(
        authorize_url: Url,
        client_id: impl Into<String>,
        redirect_uri: Url,
    ) -> AuthorizationRequestBuilder {
        AuthorizationRequestBuilder {
            authorize_url,
            client_id: client_id.into(),
            redirect_uri,
            scopes: None,
            state: None,
            pkce: false,
        }
    }

    /// The URL to open in a browser.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The `state` sent; the redirect must carry the same value.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The redirect URI sent (the code exchange must repeat it).
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// The PKCE verifier, when PKCE is on.
    pub fn pkce_verifier(&self) -> Option<&PkceVerifier> {
        self.pkce.as_ref()
    }
}

/// Builds an [`AuthorizationRequest`].
#[derive(Debug, Clone)]
pub struct AuthorizationRequestBuilder {
    authorize_url: Url,
    client_id: String,
    redirect_uri: Url,
    scopes: Option<Vec<String>>,
    state: Option<String>,
    pkce: bool,
}

impl AuthorizationRequestBuilder {
    /// The scopes to ask for (default: [`DEFAULT_SCOPES`]).
    #[must_use]
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// A caller-chosen `state` (default: 16 random bytes, base64url).
    #[must_use]
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// Adds a PKCE `S256` challenge (default: off, as Webex does not require it).
    #[must_use]
    pub fn pkce(mut self, enabled: bool) -> Self {
        self.pkce = enabled;
        self
    }

    /// Builds the URL.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an empty client id, scope list or state;
    /// [`ErrorKind::Internal`] when the system random source fails.
    pub fn build(self) -> Result<AuthorizationRequest> {
        if self.client_id.is_empty() {
            return Err(Error::with_message(
                ErrorKind::InvalidInput,
                "the Integration client id is empty",
            ));
        }
        let scopes = self
            .scopes
            .unwrap_or_else(|| DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect());
        if scopes.is_empty() || scopes.iter().any(String::is_empty) {
            return Err(Error::with_message(
                ErrorKind::InvalidInput,
                "the scope list is empty or holds an empty scope",
            ));
        }
        let state = match self.state {
            Some(state) if state.is_empty() => {
                return Err(Error::with_message(
                    ErrorKind::InvalidInput,
                    "the OAuth state is empty",
                ));
            }
            Some(state) => state,
            None => random_state()?,
        };
        let pkce = if self.pkce {
            Some(PkceVerifier::generate()?)
        } else {
            None
        };
        let mut url = self.authorize_url;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", &self.client_id)
                .append_pair("response_type", "code")
                .append_pair("redirect_uri", self.redirect_uri.as_str())
                .append_pair("scope", &scopes.join(" "))
                .append_pair("state", &state);
            if let Some(verifier) = &pkce {
                query
                    .append_pair("code_challenge", &verifier.challenge())
                    .append_pair("code_challenge_method", "S256");
            }
        }
        Ok(AuthorizationRequest {
            url,
            state,
            redirect_uri: self.redirect_uri,
            pkce,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Url {
        Url::parse(DEFAULT_AUTHORIZE_URL).expect("url")
    }

    fn redirect() -> Url {
        Url::parse("http://127.0.0.1:8765/callback").expect("url")
    }

    #[test]
    fn default_url_matches_webex_encoding_and_order() {
        let request = AuthorizationRequest::builder(endpoint(), "C123", redirect())
            .state("xyz")
            .build()
            .expect("build");
        assert_eq!(
            request.url().as_str(),
            "https://webexapis.com/v1/authorize?client_id=C123&response_type=code\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback\
             &scope=spark%3Aall+spark%3Aapplications_token+application%3Awebhooks_write\
             +application%3Awebhooks_read&state=xyz"
        );
        assert_eq!(request.state(), "xyz");
        assert!(request.pkce_verifier().is_none());
    }

    #[test]
    fn pkce_adds_an_s256_challenge_of_the_kept_verifier() {
        let request = AuthorizationRequest::builder(endpoint(), "C123", redirect())
            .scopes(["spark:all"])
            .pkce(true)
            .build()
            .expect("build");
        let verifier = request.pkce_verifier().expect("verifier");
        let pairs: Vec<(String, String)> = request.url().query_pairs().into_owned().collect();
        let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "client_id",
                "response_type",
                "redirect_uri",
                "scope",
                "state",
                "code_challenge",
                "code_challenge_method"
            ]
        );
        assert_eq!(pairs[3].1, "spark:all");
        assert_eq!(pairs[4].1, request.state());
        assert_eq!(pairs[4].1.len(), 22);
        assert_eq!(pairs[5].1, verifier.challenge());
        assert_eq!(pairs[6].1, "S256");
    }

    #[test]
    fn rejects_empty_inputs() {
        assert!(
            AuthorizationRequest::builder(endpoint(), "", redirect())
                .build()
                .is_err()
        );
        let empty_scopes: [&str; 0] = [];
        assert!(
            AuthorizationRequest::builder(endpoint(), "C", redirect())
                .scopes(empty_scopes)
                .build()
                .is_err()
        );
        assert!(
            AuthorizationRequest::builder(endpoint(), "C", redirect())
                .state("")
                .build()
                .is_err()
        );
    }
}
