//! The Webex stand-in as identity broker and REST API, a facade wired to it, a verifying media
//! server, and JWS minted the way Webex mints them.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use byova::api::RetryPolicy;
use byova::api::test_util::wiremock::Mock;
use byova::api::test_util::{WebexStandIn, matchers as m, responses};
use byova::auth::storage::{MemoryTokenStorage, TokenStorage};
use byova::jws::{BYOVA_SCHEMA_UUID, Jwk, JwkSet};
use byova::media::client::Caller;
use byova::media::{
    AgentConfig, AgentResult, Context, Reply, RunningServer, SessionStart, VirtualAgent,
};
use byova::models::{IntegrationCredentials, OAuthTokens, OrgId, ServiceAppCredentials};
use byova::{Byova, ByovaBuilder};
use josekit::jws::{JwsHeader, RS256};
use josekit::jwt::{self, JwtPayload};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc;

/// The longest any single wait may take on a loaded machine.
pub const DEADLINE: Duration = Duration::from_secs(30);
pub const ORG: &str = "63b02f90-0be4-4b43-9e78-cad425ac554c";
/// The media server's URL, as registered with Webex.
pub const DATASOURCE_URL: &str = "https://va.example.com/byova";
pub const BYOVA_SCHEMA: &str = "5397013b-7920-4ffc-807c-e8a3e0a18f43";
const KEY_ID: &str = "idb-key-1";
const KEYS_PATH: &str = "/idb/oauth2/v2/keys/verificationjwk";

pub fn org() -> OrgId {
    ORG.parse().expect("org id")
}

/// The identity broker's signing key (the stand-in serves its public half).
fn private_key() -> &'static Jwk {
    static KEY: OnceLock<Jwk> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut key = Jwk::generate_rsa_key(2048).expect("RSA key");
        key.set_key_id(KEY_ID);
        key
    })
}

fn unix_now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    i64::try_from(secs).expect("a sane clock")
}

/// `now + seconds` as RFC 3339 (the `tokenExpiryTime` of a data source).
pub fn rfc3339_in(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix_now() + seconds)
        .expect("valid")
        .format(&Rfc3339)
        .expect("format")
}

/// A data-source JWS as Webex mints it: signed by `issuer`, for `datasource_url`, expiring
/// `expires_in` seconds from now (negative: already expired).
pub fn mint(issuer: &str, datasource_url: &str, jti: &str, expires_in: i64) -> String {
    let claims = json!({
        "iss": issuer,
        "aud": "BYOVAGateway",
        "sub": "callAudioData",
        "jti": jti,
        "iat": unix_now(),
        "exp": unix_now() + expires_in,
        "com.cisco.datasource.url": datasource_url,
        "com.cisco.datasource.schema.uuid": BYOVA_SCHEMA_UUID,
        "com.cisco.datasource.orgid": ORG,
    });
    let Value::Object(map) = claims else {
        unreachable!("an object")
    };
    let mut header = JwsHeader::new();
    header.set_key_id(KEY_ID);
    let signer = RS256.signer_from_jwk(private_key()).expect("signer");
    jwt::encode_with_signer(
        &JwtPayload::from_map(map).expect("payload"),
        &header,
        &signer,
    )
    .expect("token")
}

/// A data source as Webex returns it.
pub fn data_source(id: &str, jws: &str, expiry: &str) -> Value {
    json!({
        "id": id,
        "schemaId": BYOVA_SCHEMA,
        "orgId": ORG,
        "url": DATASOURCE_URL,
        "audience": "BYOVAGateway",
        "subject": "callAudioData",
        "nonce": "nonce-0",
        "status": "active",
        "jwsToken": jws,
        "tokenLifetimeMinutes": 1440,
        "tokenExpiryTime": expiry,
    })
}

/// The stand-in (REST API and identity broker), a token store with the org registered, and a
/// facade over both that verifies the JWS of `DATASOURCE_URL` signed by the stand-in's broker.
pub struct Env {
    pub webex: WebexStandIn,
    pub storage: Arc<dyn TokenStorage>,
    pub issuer: String,
}

impl Env {
    pub async fn start() -> Self {
        let webex = WebexStandIn::start().await;
        let mut public = private_key().to_public_key().expect("public key");
        public.set_key_id(KEY_ID);
        let mut keys = JwkSet::new();
        keys.push_key(public);
        Mock::given(m::method("GET"))
            .and(m::path(KEYS_PATH))
            .and(m::no_header("authorization"))
            .respond_with(responses::json(
                serde_json::to_value(keys.as_ref()).expect("jwks"),
            ))
            .expect(1..)
            .mount(webex.server())
            .await;
        let storage: Arc<dyn TokenStorage> = Arc::new(MemoryTokenStorage::new());
        // The org authorized the Service App (its `authorized` webhook stored these).
        storage
            .set_service_app_tokens(
                &org(),
                &OAuthTokens::new("sa-access", 1_209_600, OffsetDateTime::now_utc())
                    .with_refresh_token("sa-refresh", Some(7_776_000)),
            )
            .await
            .expect("store");
        let issuer = webex.url("/idb");
        Self {
            webex,
            storage,
            issuer,
        }
    }

    /// A facade for the stand-in: the REST client never retries (each test mounts exactly the
    /// exchanges it expects), and the JWS verifier accepts the stand-in's broker.
    pub fn builder(&self) -> ByovaBuilder {
        Byova::builder(
            IntegrationCredentials::new("int-id", "int-secret"),
            ServiceAppCredentials::new("sa-id", "sa-secret"),
        )
        .client(
            self.webex
                .client_builder()
                .timeout(Some(DEADLINE))
                .retry_policy(RetryPolicy::disabled())
                .build()
                .expect("client"),
        )
        .storage(Arc::clone(&self.storage))
        .datasource_url(DATASOURCE_URL)
        .jws_issuer(self.issuer.as_str())
    }

    /// A JWS of this data source.
    pub fn mint(&self, jti: &str, expires_in: i64) -> String {
        mint(&self.issuer, DATASOURCE_URL, jti, expires_in)
    }
}

/// What the agent learned from the verified JWS of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub conversation_id: String,
    pub jti: String,
    pub subject: String,
    pub datasource_url: String,
    pub org: Option<String>,
}

/// Greets every call and reports the claims it was verified with.
struct ClaimsReporter {
    seen: mpsc::UnboundedSender<Option<Verified>>,
}

impl VirtualAgent for ClaimsReporter {
    type State = ();

    async fn on_session_start(&self, ctx: &mut Context<'_, ()>, _: SessionStart) -> AgentResult {
        let verified = ctx.claims().map(|claims| Verified {
            conversation_id: ctx.conversation_id().to_owned(),
            jti: claims.jwt_id().to_owned(),
            subject: claims.subject().to_owned(),
            datasource_url: claims.datasource_url().to_owned(),
            org: claims
                .get("com.cisco.datasource.orgid")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
        let _ = self.seen.send(verified);
        Ok(Reply::say("Verified."))
    }
}

/// The facade's media server (JWS authentication from its data-source URL) on 127.0.0.1:0, a
/// caller without a token, and what the agent saw.
pub struct Media {
    pub server: RunningServer,
    pub caller: Caller,
    pub seen: mpsc::UnboundedReceiver<Option<Verified>>,
}

impl Media {
    pub async fn start(byova: &Byova) -> Self {
        let (tx, seen) = mpsc::unbounded_channel();
        let server = byova
            .media_server()
            .addr("127.0.0.1:0".parse().expect("addr"))
            .agent(AgentConfig::new("bot", ClaimsReporter { seen: tx }))
            .build()
            .expect("JWS authentication is configured by the facade")
            .bind()
            .await
            .expect("bind");
        let caller = Caller::connect(format!("http://{}", server.local_addr()))
            .await
            .expect("connect");
        Self {
            server,
            caller,
            seen,
        }
    }

    /// What the agent saw on its next call.
    pub async fn next_seen(&mut self) -> Option<Verified> {
        tokio::time::timeout(DEADLINE, self.seen.recv())
            .await
            .expect("the agent ran in time")
            .expect("the agent is alive")
    }
}
