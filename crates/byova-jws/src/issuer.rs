//! Webex identity-broker issuers, grouped by region, and the key-set URL of an issuer.

use std::fmt;
use std::str::FromStr;

/// The path appended to an issuer to reach its key set (JWKS).
pub const JWKS_PATH: &str = "/oauth2/v2/keys/verificationjwk";

/// A group of Webex identity-broker issuers.
///
/// By default a verifier accepts every region (the list of the official gateway and Cisco's Java
/// handler); [`VerifierBuilder::region`](crate::VerifierBuilder::region) limits it, which is what
/// the Python SDK's `us` / `eu` setting maps onto.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Region {
    /// United States: `idbroker.webex.com` and `idbroker-b-us.webex.com`.
    Us,
    /// Europe: `idbroker-eu.webex.com`.
    Eu,
    /// Canada: `idbroker-ca.webex.com`.
    Ca,
    /// The Webex integration (BTS) environment: `idbrokerbts.webex.com` and
    /// `idbrokerbts-eu.webex.com`.
    Integration,
}

impl Region {
    /// Every region; the default allow-list is the union of their issuers.
    pub const ALL: [Self; 4] = [Self::Us, Self::Eu, Self::Ca, Self::Integration];

    /// The issuers (`iss` values) of this region.
    pub fn issuers(self) -> &'static [&'static str] {
        match self {
            Self::Us => &[
                "https://idbroker.webex.com/idb",
                "https://idbroker-b-us.webex.com/idb",
            ],
            Self::Eu => &["https://idbroker-eu.webex.com/idb"],
            Self::Ca => &["https://idbroker-ca.webex.com/idb"],
            Self::Integration => &[
                "https://idbrokerbts.webex.com/idb",
                "https://idbrokerbts-eu.webex.com/idb",
            ],
        }
    }

    /// The region's name as accepted by [`FromStr`]: `us`, `eu`, `ca` or `integration`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Us => "us",
            Self::Eu => "eu",
            Self::Ca => "ca",
            Self::Integration => "integration",
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing an unknown [`Region`] name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Webex region {name:?} (expected us, eu, ca or integration)")]
pub struct ParseRegionError {
    name: String,
}

impl FromStr for Region {
    type Err = ParseRegionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|region| region.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseRegionError { name: s.to_owned() })
    }
}

/// The key-set URL of an issuer: `{iss}/oauth2/v2/keys/verificationjwk`.
pub fn jwks_url(issuer: &str) -> String {
    format!("{issuer}{JWKS_PATH}")
}

/// Checks that an issuer is an absolute `http(s)` URL without a trailing slash, query or
/// fragment, so the key-set URL built from it is what the operator meant.
pub(crate) fn validate_issuer(issuer: &str) -> Result<(), String> {
    let parsed =
        url::Url::parse(issuer).map_err(|err| format!("issuer {issuer:?} is not a URL: {err}"))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(format!("issuer {issuer:?} must be an http(s) URL"));
    }
    if parsed.host_str().is_none() {
        return Err(format!("issuer {issuer:?} has no host"));
    }
    if issuer.ends_with('/') || parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!(
            "issuer {issuer:?} must not end with `/` or carry a query or fragment"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_regions_cover_the_gateway_list() {
        let mut all: Vec<&str> = Region::ALL
            .iter()
            .flat_map(|region| region.issuers().iter().copied())
            .collect();
        all.sort_unstable();
        assert_eq!(
            all,
            [
                "https://idbroker-b-us.webex.com/idb",
                "https://idbroker-ca.webex.com/idb",
                "https://idbroker-eu.webex.com/idb",
                "https://idbroker.webex.com/idb",
                "https://idbrokerbts-eu.webex.com/idb",
                "https://idbrokerbts.webex.com/idb",
            ]
        );
        for issuer in all {
            validate_issuer(issuer).unwrap();
        }
    }

    #[test]
    fn regions_parse_case_insensitively() {
        assert_eq!("EU".parse::<Region>(), Ok(Region::Eu));
        assert_eq!(" us ".parse::<Region>(), Ok(Region::Us));
        let err = "mars".parse::<Region>().unwrap_err();
        assert_eq!(
            err,
            ParseRegionError {
                name: "mars".to_owned()
            }
        );
        assert_eq!(
            err.to_string(),
            r#"unknown Webex region "mars" (expected us, eu, ca or integration)"#
        );
    }

    #[test]
    fn jwks_url_appends_the_webex_path() {
        assert_eq!(
            jwks_url("https://idbroker-eu.webex.com/idb"),
            "https://idbroker-eu.webex.com/idb/oauth2/v2/keys/verificationjwk"
        );
    }

    #[test]
    fn issuer_validation() {
        assert_eq!(validate_issuer("http://127.0.0.1:8080/idb"), Ok(()));
        let slash_query_or_fragment = |issuer: &str| {
            Err(format!(
                "issuer {issuer:?} must not end with `/` or carry a query or fragment"
            ))
        };
        for issuer in [
            "https://idbroker.webex.com/idb/",
            "https://x/idb?a=b",
            "https://x/idb#f",
        ] {
            assert_eq!(validate_issuer(issuer), slash_query_or_fragment(issuer));
        }
        assert_eq!(
            validate_issuer("ftp://idbroker.webex.com/idb"),
            Err(r#"issuer "ftp://idbroker.webex.com/idb" must be an http(s) URL"#.to_owned())
        );
        assert_eq!(
            validate_issuer("not a url"),
            Err(r#"issuer "not a url" is not a URL: relative URL without a base"#.to_owned())
        );
    }
}
