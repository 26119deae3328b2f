//! Webex ids (`base64("ciscospark://<cluster>/<KIND>/<id>")`), org ids and application ids.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const PREFIX: &str = "ciscospark://";
/// Longest encoded id accepted; real ids are far shorter.
const MAX_ENCODED_LEN: usize = 1024;

/// URL-safe alphabet, padding optional, lenient trailing bits.
const DECODER: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Why a string is not a usable Webex id.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdError {
    /// Not base64 (standard or URL-safe), or longer than any real id.
    NotBase64,
    /// Decoded, but not a `ciscospark://<cluster>/<KIND>/<id>` URI.
    NotWebexUri,
    /// A valid id of another kind than expected.
    WrongKind {
        /// The kind that was expected, e.g. `ORGANIZATION`.
        expected: &'static str,
        /// The kind found.
        found: String,
    },
    /// Neither an encoded org id nor a plain UUID.
    InvalidOrgId,
    /// An empty or malformed part was given to a constructor.
    InvalidPart(&'static str),
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotBase64 => f.write_str("Webex id is not base64"),
            Self::NotWebexUri => {
                f.write_str("Webex id does not decode to ciscospark://<cluster>/<KIND>/<id>")
            }
            Self::WrongKind { expected, found } => {
                write!(f, "Webex id has kind {found}, expected {expected}")
            }
            Self::InvalidOrgId => f.write_str("org id is neither an encoded Webex id nor a UUID"),
            Self::InvalidPart(part) => write!(f, "Webex id {part} is empty or contains '/'"),
        }
    }
}

impl std::error::Error for IdError {}

/// A decoded Webex id: `ciscospark://<cluster>/<KIND>/<id>`.
///
/// Decoding accepts the standard and the URL-safe base64 alphabets, padded or not. Encoding
/// produces URL-safe base64 without padding (the form Webex returns). The cluster is `us` for most
/// ids but may be another region (it may itself contain `:`, e.g. `urn:TEAM:eu-central-1_k`).
///
/// ```
/// use byova_models::WebexId;
///
/// let id: WebexId = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi85NmFiYzJhYS0zZGNjLTExZTUtYTE1Mi1mZTM0ODE5Y2RjOWE"
///     .parse()
///     .unwrap();
/// assert_eq!(id.cluster(), "us");
/// assert_eq!(id.kind(), WebexId::ORGANIZATION);
/// assert_eq!(id.id(), "96abc2aa-3dcc-11e5-a152-fe34819cdc9a");
/// assert_eq!(id.to_uri(), "ciscospark://us/ORGANIZATION/96abc2aa-3dcc-11e5-a152-fe34819cdc9a");
/// assert_eq!(WebexId::decode(&id.encode()).unwrap(), id);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WebexId {
    cluster: String,
    kind: String,
    id: String,
}

impl WebexId {
    /// Kind of organization ids.
    pub const ORGANIZATION: &'static str = "ORGANIZATION";
    /// Kind of application ids (Service Apps, Integrations).
    pub const APPLICATION: &'static str = "APPLICATION";
    /// Kind of person ids.
    pub const PEOPLE: &'static str = "PEOPLE";
    /// The default cluster.
    pub const US: &'static str = "us";

    /// Builds an id from its parts. `cluster` and `kind` must be non-empty and free of `/`;
    /// `id` must be non-empty.
    pub fn new(
        cluster: impl Into<String>,
        kind: impl Into<String>,
        id: impl Into<String>,
    ) -> Result<Self, IdError> {
        let (cluster, kind, id) = (cluster.into(), kind.into(), id.into());
        if cluster.is_empty() || cluster.contains('/') {
            return Err(IdError::InvalidPart("cluster"));
        }
        if kind.is_empty() || kind.contains('/') {
            return Err(IdError::InvalidPart("kind"));
        }
        if id.is_empty() {
            return Err(IdError::InvalidPart("id"));
        }
        Ok(Self { cluster, kind, id })
    }

    /// The id of an application (e.g. a Service App) with this client id, in `cluster`.
    pub fn application(cluster: &str, client_id: &str) -> Result<Self, IdError> {
        Self::new(cluster, Self::APPLICATION, client_id)
    }

    /// Decodes an encoded id (standard or URL-safe base64, padded or not).
    pub fn decode(encoded: &str) -> Result<Self, IdError> {
        let encoded = encoded.trim();
        if encoded.is_empty() || encoded.len() > MAX_ENCODED_LEN {
            return Err(IdError::NotBase64);
        }
        let normalised: String = encoded
            .chars()
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                c => c,
            })
            .collect();
        let bytes = DECODER.decode(normalised).map_err(|_| IdError::NotBase64)?;
        let uri = String::from_utf8(bytes).map_err(|_| IdError::NotWebexUri)?;
        Self::from_uri(&uri)
    }

    /// Parses the decoded form `ciscospark://<cluster>/<KIND>/<id>`.
    pub fn from_uri(uri: &str) -> Result<Self, IdError> {
        let rest = uri.strip_prefix(PREFIX).ok_or(IdError::NotWebexUri)?;
        let mut parts = rest.splitn(3, '/');
        let (Some(cluster), Some(kind), Some(id)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(IdError::NotWebexUri);
        };
        Self::new(cluster, kind, id).map_err(|_| IdError::NotWebexUri)
    }

    /// The cluster (`us`, or another region).
    #[must_use]
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// The kind, e.g. [`ORGANIZATION`](Self::ORGANIZATION).
    #[must_use]
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The raw id: a UUID for orgs and people, the client id for applications.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The decoded URI form.
    #[must_use]
    pub fn to_uri(&self) -> String {
        format!("{PREFIX}{}/{}/{}", self.cluster, self.kind, self.id)
    }

    /// The encoded form: URL-safe base64 without padding.
    #[must_use]
    pub fn encode(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.to_uri())
    }
}

impl fmt::Display for WebexId {
    /// Writes the encoded form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl FromStr for WebexId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::decode(s)
    }
}

impl Serialize for WebexId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.encode())
    }
}

impl<'de> Deserialize<'de> for WebexId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::decode(&s).map_err(serde::de::Error::custom)
    }
}

/// The application id Webex uses for a Service App: base64url (no padding) of
/// `ciscospark://us/APPLICATION/<client_id>`.
///
/// Unlike the Python SDK this is not limited to `us`: see [`derive_application_id_in`].
///
/// ```
/// assert_eq!(
///     byova_models::derive_application_id("sa-id"),
///     "Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL3NhLWlk",
/// );
/// ```
#[must_use]
pub fn derive_application_id(client_id: &str) -> String {
    derive_application_id_in(WebexId::US, client_id)
}

/// [`derive_application_id`] for another cluster (e.g. `eu`).
#[must_use]
pub fn derive_application_id_in(cluster: &str, client_id: &str) -> String {
    // Not `WebexId::application`: this never fails, whatever the parts (as in the Python SDK).
    WebexId {
        cluster: cluster.to_owned(),
        kind: WebexId::APPLICATION.to_owned(),
        id: client_id.to_owned(),
    }
    .encode()
}

/// A customer org id: the plain UUID, however it was given.
///
/// Accepts an encoded Webex org id (any cluster; kind must be `ORGANIZATION`) or a plain UUID.
/// Holds, displays and serialises the UUID in lower case (the key token storage uses and the
/// `targetOrgId` Webex expects).
///
/// ```
/// use byova_models::OrgId;
///
/// let encoded: OrgId = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi85NmFiYzJhYS0zZGNjLTExZTUtYTE1Mi1mZTM0ODE5Y2RjOWE"
///     .parse()
///     .unwrap();
/// let plain: OrgId = "96ABC2AA-3DCC-11E5-A152-FE34819CDC9A".parse().unwrap();
/// assert_eq!(encoded, plain);
/// assert_eq!(plain.as_str(), "96abc2aa-3dcc-11e5-a152-fe34819cdc9a");
/// assert!("not an org".parse::<OrgId>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgId(String);

impl OrgId {
    /// Parses an encoded org id or a plain UUID.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        let value = value.trim();
        if is_uuid(value) {
            return Ok(Self(value.to_ascii_lowercase()));
        }
        let id = WebexId::decode(value).map_err(|err| match err {
            IdError::NotBase64 | IdError::NotWebexUri => IdError::InvalidOrgId,
            other => other,
        })?;
        Self::try_from(id)
    }

    /// The plain UUID.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The encoded Webex id of this org in `cluster` (usually [`WebexId::US`]).
    #[must_use]
    pub fn to_webex_id(&self, cluster: &str) -> WebexId {
        WebexId {
            cluster: cluster.to_owned(),
            kind: WebexId::ORGANIZATION.to_owned(),
            id: self.0.clone(),
        }
    }
}

impl TryFrom<WebexId> for OrgId {
    type Error = IdError;
    fn try_from(id: WebexId) -> Result<Self, IdError> {
        if id.kind != WebexId::ORGANIZATION {
            return Err(IdError::WrongKind {
                expected: WebexId::ORGANIZATION,
                found: id.kind,
            });
        }
        if !is_uuid(&id.id) {
            return Err(IdError::InvalidOrgId);
        }
        Ok(Self(id.id.to_ascii_lowercase()))
    }
}

impl FromStr for OrgId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::parse(s)
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for OrgId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for OrgId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for OrgId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encoded_org_id_must_hold_a_uuid() {
        let id = WebexId::new("us", WebexId::ORGANIZATION, "not-a-uuid:../x").unwrap();
        assert_eq!(OrgId::parse(&id.encode()), Err(IdError::InvalidOrgId));
        let id = WebexId::new(
            "us",
            WebexId::ORGANIZATION,
            "63B02F90-9CC6-43B8-AA6D-CAD425AC554C",
        )
        .unwrap();
        assert_eq!(
            OrgId::parse(&id.encode()).unwrap().as_str(),
            "63b02f90-9cc6-43b8-aa6d-cad425ac554c"
        );
    }

    #[test]
    fn standard_alphabet_and_padding_are_accepted() {
        let id = WebexId::new("eu", "PEOPLE", "a?b>c~").unwrap();
        let uri = id.to_uri();
        for engine in [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::STANDARD_NO_PAD,
            base64::engine::general_purpose::URL_SAFE,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            assert_eq!(WebexId::decode(&engine.encode(&uri)).unwrap(), id);
        }
    }

    #[test]
    fn cluster_may_contain_colons() {
        let id = WebexId::from_uri("ciscospark://urn:TEAM:eu-central-1_k/ROOM/abc").unwrap();
        assert_eq!(id.cluster(), "urn:TEAM:eu-central-1_k");
        assert_eq!(id.kind(), "ROOM");
    }

    #[test]
    fn garbage_is_rejected() {
        assert_eq!(WebexId::decode("!!!"), Err(IdError::NotBase64));
        assert_eq!(WebexId::decode(""), Err(IdError::NotBase64));
        // Valid base64 of "hello world".
        assert_eq!(
            WebexId::decode("aGVsbG8gd29ybGQ"),
            Err(IdError::NotWebexUri)
        );
        assert_eq!(
            WebexId::from_uri("ciscospark://us/ORGANIZATION"),
            Err(IdError::NotWebexUri)
        );
        assert_eq!(
            WebexId::from_uri("ciscospark://us/ORGANIZATION/"),
            Err(IdError::NotWebexUri)
        );
        assert_eq!(WebexId::decode(&"A".repeat(2000)), Err(IdError::NotBase64));
    }

    #[test]
    fn org_id_rejects_other_kinds_and_garbage() {
        let app = WebexId::application("us", "x").unwrap().encode();
        assert!(matches!(OrgId::parse(&app), Err(IdError::WrongKind { .. })));
        assert_eq!(OrgId::parse("org-test-1"), Err(IdError::InvalidOrgId));
        assert_eq!(OrgId::parse(""), Err(IdError::InvalidOrgId));
    }

    #[test]
    fn application_id_in_other_cluster() {
        let encoded = derive_application_id_in("eu", "sa-id");
        let id = WebexId::decode(&encoded).unwrap();
        assert_eq!(
            (id.cluster(), id.kind(), id.id()),
            ("eu", "APPLICATION", "sa-id")
        );
    }
}
