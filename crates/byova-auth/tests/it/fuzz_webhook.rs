//! Fuzz twin of `fuzz/fuzz_targets/webhook_payload.rs`: Service App webhook deliveries (any
//! bytes, or payloads built from a model of every field Webex sends) with any `X-Spark-Signature`,
//! delivered one to three times to a real `ServiceAppWebhooks` whose Service App mints tokens on
//! a Webex stand-in.
//!
//! Invariants:
//! - nothing panics; a delivery whose signature is not the HMAC-SHA1 of the exact body (40 hex
//!   digits, any case, surrounding whitespace ignored) is refused before the body is read and
//!   changes nothing;
//! - a signed payload gets exactly the outcome its fields prescribe: wrong-typed fields and a
//!   missing or invalid `orgId` (top level, else under `data`; a plain UUID or an encoded
//!   `ORGANIZATION` id whose id is a UUID) are `InvalidPayload`, then `resource`, `event` (else
//!   `name`, any case) and `applicationId` are checked in that order;
//! - `authorized` mints tokens for exactly that org and stores them; `deauthorized` deletes them
//!   and says whether there were any; a redelivery of a handled event (same `data.id`, or same
//!   hook, event, org and `created`) is a `Duplicate` and does nothing.
//!
//! The cargo-fuzz target includes this file; with `cfg(fuzzing)` the input model derives
//! `arbitrary::Arbitrary`.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use byova_api::Client;
use byova_api::test_util::WebexStandIn;
use byova_api::test_util::wiremock::{Mock, Request, Respond, ResponseTemplate, matchers};
use byova_auth::storage::{MemoryTokenStorage, TokenStorage};
use byova_auth::webhook::{ServiceAppWebhooks, WebhookOutcome};
use byova_auth::{ErrorKind, IntegrationAuth, ServiceAppAuth};
use byova_models::{
    IntegrationCredentials, OAuthTokens, OrgId, ServiceAppCredentials, WebexId,
    derive_application_id,
};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

// ---------------------------------------------------------------------------------------------
// Input model
// ---------------------------------------------------------------------------------------------

/// Deliveries of one body with one signature.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub struct Input {
    /// The webhook secret.
    pub secret: Vec<u8>,
    /// The body.
    pub body: Body,
    /// The `X-Spark-Signature` value.
    pub signature: Signature,
    /// Deliveries: 1 + this % 3.
    pub deliveries: u8,
    /// Whether [`ORG`] already has Service App tokens.
    pub registered: bool,
    /// `check_application` of the handler.
    pub check_application: bool,
}

/// A delivery body.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Body {
    /// Any bytes.
    Raw(Vec<u8>),
    /// A payload built from a model.
    Event(Box<Event>),
}

/// `X-Spark-Signature`.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Signature {
    /// The lowercase hex HMAC-SHA1 of the body.
    Correct,
    /// The same in upper case.
    Upper,
    /// The same with surrounding whitespace: (spaces before, tabs after).
    Padded(u8, u8),
    /// No header.
    Missing,
    /// The correct one with one byte replaced: (position, byte).
    Edited(u8, u8),
    /// The correct one cut to this length.
    Truncated(u8),
    /// Any bytes.
    Bytes(Vec<u8>),
}

/// A Service App webhook payload.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub struct Event {
    /// `resource`.
    pub resource: Field,
    /// `event`.
    pub event: Field,
    /// `name` (read when `event` is absent).
    pub name: Field,
    /// Where `orgId` is.
    pub org_place: OrgPlace,
    /// Its value.
    pub org: Org,
    /// `id` (the webhook id).
    pub id: Field,
    /// `created`.
    pub created: Field,
    /// Where `applicationId` is.
    pub app_place: Place,
    /// Its value.
    pub app: App,
    /// `data.id`.
    pub data_id: Field,
    /// Whether `data` is present (an object), when nothing else needs it.
    pub data: bool,
    /// Unknown fields (`x-<n>`: text).
    pub extra: Vec<(u8, String)>,
}

/// A top-level string field.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Field {
    /// Absent.
    Missing,
    /// One of [`WORDS`] in one of four letter cases.
    Word(u8, u8),
    /// Any text (at most 48 characters).
    Text(String),
    /// A number (wrong type).
    Number,
}

/// Where a field is.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Place {
    /// Nowhere.
    Missing,
    /// Top level.
    Top,
    /// Under `data`.
    Data,
    /// Top level, and a different value under `data`.
    Both,
}

/// Where `orgId` is.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum OrgPlace {
    /// See [`Place`].
    At(Place),
    /// Top level as a number (wrong type).
    TopNumber,
    /// Under `data` as a number.
    DataNumber,
}

/// An `orgId` value.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Org {
    /// [`ORG`].
    Known,
    /// A plain UUID: (value, upper case, surrounding spaces).
    Uuid(u128, bool, bool),
    /// An encoded Webex id.
    Encoded {
        /// Index into [`CLUSTERS`].
        cluster: u8,
        /// Index into [`KINDS`].
        kind: u8,
        /// The id part.
        id: Inner,
        /// Standard alphabet with padding instead of URL-safe without.
        standard: bool,
    },
    /// Any text.
    Text(String),
}

/// The id inside an encoded org id.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Inner {
    /// A UUID (upper case when `true`).
    Uuid(u128, bool),
    /// Any text.
    Text(String),
}

/// An `applicationId` value.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum App {
    /// The Service App's client id.
    ClientId,
    /// Its application id (encoded, `us`).
    ApplicationId,
    /// Its application id in another cluster.
    OtherCluster,
    /// Another application's encoded id.
    OtherApplication,
    /// Any text.
    Text(String),
    /// A number.
    Number,
}

/// The Integration's client id.
pub const INTEGRATION_ID: &str = "int-client";
/// The Service App's client id.
pub const SA_ID: &str = "sa-id";
/// The Service App's client secret.
pub const SA_SECRET: &str = "sa-secret-value";
/// The org that may be registered before the deliveries.
pub const ORG: &str = "63b02f90-0be4-4b43-9e78-cad425ac554c";
/// Words fields are made of.
pub const WORDS: [&str; 6] = [
    "serviceApp",
    "authorized",
    "deauthorized",
    "created",
    "BYOVA Service App authorized",
    "",
];
/// Clusters of encoded ids (the last one is invalid).
pub const CLUSTERS: [&str; 4] = ["us", "eu", "urn:TEAM:eu-central-1_k", ""];
/// Kinds of encoded ids.
pub const KINDS: [&str; 4] = ["ORGANIZATION", "PEOPLE", "APPLICATION", "organization"];

// ---------------------------------------------------------------------------------------------
// Rendering and the expected outcome
// ---------------------------------------------------------------------------------------------

impl Field {
    fn json(&self) -> Option<Value> {
        match self {
            Self::Missing => None,
            Self::Word(..) | Self::Text(_) => self.text().map(Value::from),
            Self::Number => Some(7.into()),
        }
    }

    fn text(&self) -> Option<String> {
        match self {
            Self::Word(word, case) => {
                let word = WORDS[usize::from(*word) % WORDS.len()];
                Some(match case % 4 {
                    0 => word.to_owned(),
                    1 => word.to_ascii_uppercase(),
                    2 => word.to_ascii_lowercase(),
                    _ => {
                        let mut chars = word.chars();
                        chars
                            .next()
                            .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                            .unwrap_or_default()
                    }
                })
            }
            Self::Text(text) => Some(text.chars().take(48).collect()),
            Self::Missing | Self::Number => None,
        }
    }
}

fn uuid_text(value: u128, upper: bool) -> String {
    let hex = format!("{value:032x}");
    let text = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    );
    if upper {
        text.to_ascii_uppercase()
    } else {
        text
    }
}

fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

impl Org {
    fn text(&self) -> String {
        match self {
            Self::Known => ORG.to_owned(),
            Self::Uuid(value, upper, spaced) => {
                let uuid = uuid_text(*value, *upper);
                if *spaced { format!(" {uuid} ") } else { uuid }
            }
            Self::Encoded {
                cluster,
                kind,
                id,
                standard,
            } => {
                let id = match id {
                    Inner::Uuid(value, upper) => uuid_text(*value, *upper),
                    Inner::Text(text) => text.chars().take(48).collect(),
                };
                let uri = format!(
                    "ciscospark://{}/{}/{id}",
                    CLUSTERS[usize::from(*cluster) % CLUSTERS.len()],
                    KINDS[usize::from(*kind) % KINDS.len()],
                );
                if *standard {
                    STANDARD.encode(uri)
                } else {
                    URL_SAFE_NO_PAD.encode(uri)
                }
            }
            Self::Text(text) => text.chars().take(64).collect(),
        }
    }

    /// The org the payload names, as documented: a plain UUID, or an encoded `ORGANIZATION` id
    /// of a UUID, in lower case. `None` when invalid; `Some(None)` when unknowable (any text).
    fn expected(&self) -> Option<Option<String>> {
        match self {
            Self::Known => Some(Some(ORG.to_owned())),
            Self::Uuid(value, ..) => Some(Some(uuid_text(*value, false))),
            Self::Encoded {
                cluster, kind, id, ..
            } => {
                let valid_cluster = !CLUSTERS[usize::from(*cluster) % CLUSTERS.len()].is_empty();
                let organization = KINDS[usize::from(*kind) % KINDS.len()] == "ORGANIZATION";
                let uuid = match id {
                    Inner::Uuid(value, _) => Some(uuid_text(*value, false)),
                    Inner::Text(text) => {
                        let text: String = text.chars().take(48).collect();
                        is_uuid(&text).then(|| text.to_ascii_lowercase())
                    }
                };
                Some(uuid.filter(|_| valid_cluster && organization))
            }
            Self::Text(_) => None,
        }
    }
}

impl App {
    fn json(&self) -> Value {
        match self {
            Self::ClientId => SA_ID.into(),
            Self::ApplicationId => derive_application_id(SA_ID).into(),
            Self::OtherCluster => WebexId::application("eu", SA_ID)
                .expect("id")
                .encode()
                .into(),
            Self::OtherApplication => derive_application_id("another-app").into(),
            Self::Text(text) => text.chars().take(48).collect::<String>().into(),
            Self::Number => 9.into(),
        }
    }
}

/// Whether an `applicationId` names our Service App (documented: the client id, the
/// application id, or any cluster's encoded `APPLICATION` id of the client id).
fn ours(named: &str) -> bool {
    named == SA_ID
        || named == derive_application_id(SA_ID)
        || WebexId::decode(named)
            .is_ok_and(|id| id.kind() == WebexId::APPLICATION && id.id() == SA_ID)
}

/// What a signed delivery of a payload must give, before de-duplication and storage.
#[derive(Debug, Clone, PartialEq)]
enum Expected {
    /// Refused with this kind.
    Refused(ErrorKind),
    /// Accepted: the event, its org and its id for de-duplication.
    Accepted {
        authorized: bool,
        org: String,
        event_id: Option<String>,
        ours: bool,
    },
    /// Unknowable from the model (the org is free text); checked for consistency only.
    Unknown,
}

impl Event {
    fn json(&self) -> Value {
        let mut top = Map::new();
        let mut data = Map::new();
        let put = |map: &mut Map<String, Value>, name: &str, value: Option<Value>| {
            if let Some(value) = value {
                map.insert(name.to_owned(), value);
            }
        };
        put(&mut top, "id", self.id.json());
        put(&mut top, "name", self.name.json());
        put(&mut top, "resource", self.resource.json());
        put(&mut top, "event", self.event.json());
        let org = Value::from(self.org.text());
        match self.org_place {
            OrgPlace::At(Place::Missing) => {}
            OrgPlace::At(Place::Top) => put(&mut top, "orgId", Some(org)),
            OrgPlace::At(Place::Data) => put(&mut data, "orgId", Some(org)),
            OrgPlace::At(Place::Both) => {
                put(&mut top, "orgId", Some(org));
                put(&mut data, "orgId", Some("not-this-one".into()));
            }
            OrgPlace::TopNumber => put(&mut top, "orgId", Some(5.into())),
            OrgPlace::DataNumber => put(&mut data, "orgId", Some(5.into())),
        }
        let app = self.app.json();
        match self.app_place {
            Place::Missing => {}
            Place::Top => put(&mut top, "applicationId", Some(app)),
            Place::Data => put(&mut data, "applicationId", Some(app)),
            Place::Both => {
                put(&mut top, "applicationId", Some(app));
                put(&mut data, "applicationId", Some("not-this-one".into()));
            }
        }
        put(&mut top, "created", self.created.json());
        put(&mut data, "id", self.data_id.json());
        for (n, text) in &self.extra {
            put(&mut top, &format!("x-{n}"), Some(text.clone().into()));
        }
        if self.data || !data.is_empty() {
            top.insert("data".into(), Value::Object(data));
        }
        Value::Object(top)
    }

    /// The outcome the payload's fields prescribe.
    fn expected(&self) -> Expected {
        let top_level = [
            &self.resource,
            &self.event,
            &self.name,
            &self.id,
            &self.created,
        ];
        let wrong_type = top_level.iter().any(|field| matches!(field, Field::Number))
            || matches!(self.org_place, OrgPlace::TopNumber)
            || (matches!(self.app, App::Number)
                && matches!(self.app_place, Place::Top | Place::Both));
        if wrong_type {
            return Expected::Refused(ErrorKind::InvalidPayload);
        }
        if let Some(resource) = self.resource.text()
            && resource != "serviceApp"
        {
            return Expected::Refused(ErrorKind::UnexpectedResource { resource });
        }
        let event_name = self.event.text().or_else(|| self.name.text());
        let authorized = match event_name.as_deref() {
            Some(name) if name.eq_ignore_ascii_case("authorized") => true,
            Some(name) if name.eq_ignore_ascii_case("deauthorized") => false,
            other => {
                return Expected::Refused(ErrorKind::UnexpectedEvent {
                    event: other.unwrap_or_default().to_owned(),
                });
            }
        };
        let org = match self.org_place {
            OrgPlace::At(Place::Missing) | OrgPlace::DataNumber => None,
            _ => match self.org.expected() {
                Some(org) => org,
                None => return Expected::Unknown,
            },
        };
        let Some(org) = org else {
            return Expected::Refused(ErrorKind::InvalidPayload);
        };
        let event_id = match self.data_id.text() {
            Some(id) => Some(format!("data:{id}")),
            None => self.created.text().map(|created| {
                format!(
                    "{}|{}|{org}|{created}",
                    self.id.text().unwrap_or_default(),
                    event_name.unwrap_or_default()
                )
            }),
        };
        let ours = match (&self.app_place, self.app.json()) {
            (Place::Missing, _) | (_, Value::Number(_)) => true,
            (_, Value::String(named)) => ours(&named),
            _ => unreachable!("application ids are strings or numbers"),
        };
        Expected::Accepted {
            authorized,
            org,
            event_id,
            ours,
        }
    }
}

/// The HMAC-SHA1 of `body` under `secret`, in lowercase hex (computed independently).
fn hmac_hex(secret: &[u8], body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    ring::hmac::sign(&key, body)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Signature {
    fn bytes(&self, secret: &[u8], body: &[u8]) -> Option<Vec<u8>> {
        let hex = hmac_hex(secret, body);
        Some(match self {
            Self::Correct => hex.into_bytes(),
            Self::Upper => hex.to_ascii_uppercase().into_bytes(),
            Self::Padded(spaces, tabs) => format!(
                "{}{hex}{}",
                " ".repeat(usize::from(spaces % 4)),
                "\t".repeat(usize::from(tabs % 4))
            )
            .into_bytes(),
            Self::Missing => return None,
            Self::Edited(position, byte) => {
                let mut bytes = hex.into_bytes();
                bytes[usize::from(*position) % 40] = *byte;
                bytes
            }
            Self::Truncated(length) => hex.as_bytes()[..usize::from(*length) % 40].to_vec(),
            Self::Bytes(bytes) => bytes.clone(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The environment: a Webex stand-in that mints tokens, shared by all checks
// ---------------------------------------------------------------------------------------------

struct Env {
    runtime: tokio::runtime::Runtime,
    client: Client,
    _webex: WebexStandIn,
}

/// Mints `sa-access-<targetOrgId>` for any org.
struct Mint;

impl Respond for Mint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let org = body["targetOrgId"].as_str().unwrap_or("none");
        let well_formed = body["clientId"] == SA_ID && body["clientSecret"] == SA_SECRET;
        if !well_formed {
            return ResponseTemplate::new(400).set_body_json(json!({"message": "bad mint"}));
        }
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": format!("sa-access-{org}"),
            "expires_in": 1_209_600,
            "token_type": "Bearer",
            "refresh_token": "sa-refresh",
            "refresh_token_expires_in": 7_776_000,
        }))
    }
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let (webex, client) = runtime.block_on(async {
            let webex = WebexStandIn::start().await;
            Mock::given(matchers::method("POST"))
                .and(matchers::path(format!(
                    "/applications/{}/token",
                    derive_application_id(SA_ID)
                )))
                .and(matchers::header("authorization", "Bearer int-access"))
                .respond_with(Mint)
                .mount(webex.server())
                .await;
            let client = webex.client();
            (webex, client)
        });
        Env {
            runtime,
            client,
            _webex: webex,
        }
    })
}

fn fresh(access: &str) -> OAuthTokens {
    OAuthTokens::new(access, 1_209_600, OffsetDateTime::now_utc())
        .with_refresh_token("refresh", Some(7_776_000))
}

// ---------------------------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------------------------

/// Delivers one input and asserts the invariants.
pub fn check(input: &Input) {
    let env = env();
    env.runtime.block_on(run(env, input));
}

async fn run(env: &Env, input: &Input) {
    let storage = Arc::new(MemoryTokenStorage::new());
    storage
        .set_integration_tokens(&fresh("int-access"))
        .await
        .expect("store");
    let org: OrgId = ORG.parse().expect("org");
    if input.registered {
        storage
            .set_service_app_tokens(&org, &fresh("sa-before"))
            .await
            .expect("store");
    }
    let integration = IntegrationAuth::builder(
        IntegrationCredentials::new(INTEGRATION_ID, "int-secret"),
        env.client.clone(),
    )
    .storage(storage.clone())
    .build();
    let service_apps =
        ServiceAppAuth::builder(ServiceAppCredentials::new(SA_ID, SA_SECRET), integration).build();
    let webhooks = ServiceAppWebhooks::new(service_apps, &input.secret)
        .check_application(input.check_application);

    let body = match &input.body {
        Body::Raw(bytes) => bytes.clone(),
        Body::Event(event) => serde_json::to_vec(&event.json()).expect("json"),
    };
    let signature = input.signature.bytes(&input.secret, &body);
    let signed = signature.as_deref().is_some_and(|signature| {
        let trimmed = signature.trim_ascii();
        trimmed.len() == 40
            && trimmed.eq_ignore_ascii_case(hmac_hex(&input.secret, &body).as_bytes())
    });
    let expected = match (&input.body, signed) {
        (_, false) => Expected::Refused(if signature.is_some() {
            ErrorKind::InvalidSignature
        } else {
            ErrorKind::MissingSignature
        }),
        (Body::Event(event), true) => event.expected(),
        (Body::Raw(_), true) => Expected::Unknown,
    };

    let mut registered: HashSet<String> = HashSet::new();
    if input.registered {
        registered.insert(ORG.to_owned());
    }
    let mut handled: HashSet<String> = HashSet::new();
    for _ in 0..=input.deliveries % 3 {
        let result = tokio::time::timeout(
            Duration::from_secs(60),
            webhooks.handle_signed(signature.as_deref(), &body),
        )
        .await
        .expect("a delivery is handled within a minute");
        if let Err(error) = &result {
            let _ = (error.to_string(), format!("{error:?}"));
        }
        match &expected {
            Expected::Refused(kind) => {
                let error = result.expect_err("refused");
                assert_eq!(error.kind(), kind, "{error}");
            }
            Expected::Unknown => check_consistent(&result),
            Expected::Accepted {
                authorized,
                org,
                event_id,
                ours,
            } => {
                if input.check_application && !ours {
                    let error = result.expect_err("another application");
                    assert_eq!(error.kind(), &ErrorKind::UnexpectedApplication);
                    continue;
                }
                let outcome = result.expect("a valid signed event is handled");
                if let Some(event_id) = event_id
                    && !handled.insert(event_id.clone())
                {
                    assert_eq!(
                        outcome,
                        WebhookOutcome::Duplicate {
                            event_id: event_id.clone()
                        }
                    );
                    continue;
                }
                let org_id: OrgId = org.parse().expect("expected orgs are UUIDs");
                match outcome {
                    WebhookOutcome::Authorized {
                        org_id: got,
                        tokens,
                    } if *authorized => {
                        assert_eq!(got.as_str(), org);
                        assert_eq!(tokens.access_token.expose(), format!("sa-access-{org}"));
                        registered.insert(org.clone());
                    }
                    WebhookOutcome::Deauthorized {
                        org_id: got,
                        was_registered,
                    } if !authorized => {
                        assert_eq!(got.as_str(), org);
                        assert_eq!(was_registered, registered.remove(org));
                    }
                    other => panic!("{other:?} for {expected:?}"),
                }
                let stored = storage.service_app_tokens(&org_id).await.expect("storage");
                assert_eq!(stored.is_some(), registered.contains(org));
            }
        }
    }
    // Whatever happened, only orgs the deliveries named were registered or removed.
    let mut orgs: Vec<String> = storage
        .registered_orgs()
        .await
        .expect("storage")
        .iter()
        .map(|org| org.as_str().to_owned())
        .collect();
    orgs.sort();
    for org in &orgs {
        assert!(is_uuid(org), "a stored org id is not a UUID: {org:?}");
    }
    if !matches!(expected, Expected::Unknown) {
        let mut expected: Vec<String> = registered.into_iter().collect();
        expected.sort();
        assert_eq!(orgs, expected);
    }
}

/// An outcome whose expectation is unknowable: typed, and any org it names is a UUID.
fn check_consistent(result: &byova_auth::Result<WebhookOutcome>) {
    match result {
        Ok(
            WebhookOutcome::Authorized { org_id, .. } | WebhookOutcome::Deauthorized { org_id, .. },
        ) => {
            assert!(is_uuid(org_id.as_str()), "org id {org_id:?} is not a UUID");
        }
        Ok(_) => {}
        Err(error) => assert!(
            matches!(
                error.kind(),
                ErrorKind::InvalidPayload
                    | ErrorKind::UnexpectedResource { .. }
                    | ErrorKind::UnexpectedEvent { .. }
                    | ErrorKind::UnexpectedApplication
            ),
            "{error}"
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// The proptest twin
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod twin {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    fn field(word: u8, valid: u32) -> impl Strategy<Value = Field> {
        // Mostly the word as Webex writes it; sometimes another case, word, text or type.
        prop_oneof![
            valid => Just(Field::Word(word, 0)),
            1 => any::<u8>().prop_map(move |case| Field::Word(word, case)),
            1 => Just(Field::Missing),
            1 => (any::<u8>(), any::<u8>()).prop_map(|(w, c)| Field::Word(w, c)),
            1 => "[ -~]{0,12}".prop_map(Field::Text),
            1 => Just(Field::Number),
        ]
    }

    fn place(present: u32) -> impl Strategy<Value = Place> {
        prop_oneof![
            present => Just(Place::Top),
            present => Just(Place::Data),
            1 => Just(Place::Both),
            1 => Just(Place::Missing),
        ]
    }

    fn org() -> impl Strategy<Value = Org> {
        let inner = prop_oneof![
            6 => (any::<u128>(), any::<bool>()).prop_map(|(v, u)| Inner::Uuid(v, u)),
            1 => "[ -~]{1,12}".prop_map(Inner::Text),
        ];
        prop_oneof![
            4 => Just(Org::Known),
            2 => (any::<u128>(), any::<bool>(), any::<bool>())
                .prop_map(|(v, u, s)| Org::Uuid(v, u, s)),
            4 => (
                prop_oneof![4 => Just(0_u8), 1 => any::<u8>()],
                prop_oneof![4 => Just(0_u8), 1 => any::<u8>()],
                inner,
                any::<bool>(),
            )
                .prop_map(|(cluster, kind, id, standard)| Org::Encoded {
                    cluster,
                    kind,
                    id,
                    standard,
                }),
            1 => "[ -~]{0,40}".prop_map(Org::Text),
        ]
    }

    fn app() -> impl Strategy<Value = App> {
        prop_oneof![
            2 => Just(App::ClientId),
            3 => Just(App::ApplicationId),
            1 => Just(App::OtherCluster),
            1 => Just(App::OtherApplication),
            1 => "[ -~]{0,12}".prop_map(App::Text),
            1 => Just(App::Number),
        ]
    }

    fn event() -> impl Strategy<Value = Event> {
        (
            (
                field(0, 30),
                prop_oneof![field(1, 30), field(2, 30)],
                field(4, 2),
                prop_oneof![
                    16 => place(4).prop_map(OrgPlace::At),
                    1 => Just(OrgPlace::TopNumber),
                    1 => Just(OrgPlace::DataNumber),
                ],
                org(),
                field(3, 6),
            ),
            (
                prop_oneof![3 => Just(Field::Text("2025-05-01T10:00:00.000Z".into())), 1 => field(3, 1)],
                place(2),
                app(),
                field(3, 3),
                any::<bool>(),
                vec((any::<u8>(), "[ -~]{0,6}"), 0..2),
            ),
        )
            .prop_map(
                |(
                    (resource, event, name, org_place, org, id),
                    (created, app_place, app, data_id, data, extra),
                )| Event {
                    resource,
                    event,
                    name,
                    org_place,
                    org,
                    id,
                    created,
                    app_place,
                    app,
                    data_id,
                    data,
                    extra,
                },
            )
    }

    fn signature() -> impl Strategy<Value = Signature> {
        prop_oneof![
            30 => Just(Signature::Correct),
            1 => Just(Signature::Upper),
            1 => (any::<u8>(), any::<u8>()).prop_map(|(s, t)| Signature::Padded(s, t)),
            1 => Just(Signature::Missing),
            1 => (any::<u8>(), any::<u8>()).prop_map(|(p, b)| Signature::Edited(p, b)),
            1 => any::<u8>().prop_map(Signature::Truncated),
            1 => vec(any::<u8>(), 0..44).prop_map(Signature::Bytes),
        ]
    }

    fn input() -> impl Strategy<Value = Input> {
        (
            vec(any::<u8>(), 0..24),
            prop_oneof![
                1 => vec(any::<u8>(), 0..64).prop_map(Body::Raw),
                8 => event().prop_map(|event| Body::Event(Box::new(event))),
            ],
            signature(),
            any::<u8>(),
            any::<bool>(),
            proptest::bool::weighted(0.8),
        )
            .prop_map(
                |(secret, body, signature, deliveries, registered, check_application)| Input {
                    secret,
                    body,
                    signature,
                    deliveries,
                    registered,
                    check_application,
                },
            )
    }

    /// The documented contract of `orgId`: an encoded `ORGANIZATION` id must carry a UUID.
    /// Found by this twin: `OrgId::parse` accepts any id inside a well-formed encoded id.
    #[test]
    fn an_encoded_org_id_that_is_not_a_uuid_is_an_invalid_payload() {
        let event = Event {
            resource: Field::Word(0, 0),
            event: Field::Word(1, 0),
            name: Field::Missing,
            org_place: OrgPlace::At(Place::Top),
            org: Org::Encoded {
                cluster: 0,
                kind: 0,
                id: Inner::Text("not-a-uuid:../x".into()),
                standard: false,
            },
            id: Field::Missing,
            created: Field::Missing,
            app_place: Place::Missing,
            app: App::ClientId,
            data_id: Field::Missing,
            data: false,
            extra: Vec::new(),
        };
        check(&Input {
            secret: b"secret".to_vec(),
            body: Body::Event(Box::new(event)),
            signature: Signature::Correct,
            deliveries: 0,
            registered: false,
            check_application: true,
        });
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(256),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn signed_and_unsigned_deliveries_get_the_outcome_their_fields_prescribe(input in input()) {
            check(&input);
        }
    }
}
