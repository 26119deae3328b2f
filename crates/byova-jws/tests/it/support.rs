//! Shared fixtures: RSA keys made once per test binary, Webex-shaped tokens, a loopback key
//! server that counts fetches, and time travel for `tokio::time`.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use byova_jws::{BYOVA_SCHEMA_UUID, ErrorKind, Jwk, JwkSet, Verifier, VerifierBuilder};
use josekit::jwk::KeyPair as _;
use josekit::jwk::alg::rsa::RsaKeyPair;
use josekit::jws::{JwsSigner as _, RS256};
use serde_json::{Map, Value, json};
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The data-source URL the test verifiers expect.
pub const DATASOURCE_URL: &str = "https://byova.example.com/va/v1";
/// The path of every issuer's key set.
pub const JWKS_PATH: &str = "/idb/oauth2/v2/keys/verificationjwk";
/// The verifier's default refetch cool-down, plus a second.
pub const COOLDOWN: Duration = Duration::from_secs(31);
/// The verifier's default key-set TTL, plus a minute.
pub const TTL: Duration = Duration::from_secs(61 * 60);

/// An RSA key pair with its key id.
pub struct TestKey {
    pub kid: &'static str,
    pub pair: RsaKeyPair,
}

impl TestKey {
    fn generate(kid: &'static str) -> Self {
        Self {
            kid,
            pair: RsaKeyPair::generate(2048).expect("RSA key generation"),
        }
    }

    /// The public JWK as an identity broker publishes it (`kid`, `use: sig`, `alg: RS256`).
    pub fn public_jwk(&self) -> Jwk {
        let mut jwk = self.pair.to_jwk_public_key();
        jwk.set_key_id(self.kid);
        jwk.set_key_use("sig");
        jwk.set_algorithm("RS256");
        jwk
    }

    /// The public key in PEM, the classic "HMAC secret" of algorithm-confusion attacks.
    pub fn public_pem(&self) -> Vec<u8> {
        self.pair.to_pem_public_key()
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let signer = RS256
            .signer_from_jwk(&self.pair.to_jwk_private_key())
            .expect("signer");
        signer.sign(message).expect("signature")
    }
}

/// The keys of the test binary, generated once.
pub struct Keys {
    /// The broker's current key.
    pub a: TestKey,
    /// The key the broker rotates to.
    pub b: TestKey,
    /// An attacker's key that claims to be `a` (same kid).
    pub impostor: TestKey,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        a: TestKey::generate("key-a"),
        b: TestKey::generate("key-b"),
        impostor: TestKey::generate("key-a"),
    })
}

/// A JWKS document with these keys.
pub fn jwks(keys: &[&TestKey]) -> Value {
    json!({ "keys": keys.iter().map(|key| Value::Object(key.public_jwk().as_ref().clone())).collect::<Vec<_>>() })
}

/// A static key set for verifiers that never fetch.
pub fn jwk_set(keys: &[&TestKey]) -> JwkSet {
    let mut set = JwkSet::new();
    for key in keys {
        set.push_key(key.public_jwk());
    }
    set
}

/// The current Unix time in seconds.
pub fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs(),
    )
    .expect("fits")
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token as Webex mints it, with every part open to tampering.
#[derive(Clone)]
pub struct TokenSpec {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    pub signer: &'static TestKey,
}

impl TokenSpec {
    /// A valid token of `issuer`, signed with key `a`; each one has a fresh `jti`.
    pub fn valid(issuer: &str) -> Self {
        static NEXT_JTI: AtomicUsize = AtomicUsize::new(1);
        let jti = NEXT_JTI.fetch_add(1, Ordering::Relaxed);
        let Value::Object(header) = json!({"alg": "RS256", "typ": "JWT", "kid": "key-a"}) else {
            unreachable!()
        };
        let Value::Object(claims) = json!({
            "iss": issuer,
            "aud": "BYOVAGateway",
            "sub": "callAudioData",
            "jti": format!("jti-{jti}"),
            "iat": now() - 60,
            "exp": now() + 3600,
            "com.cisco.datasource.url": DATASOURCE_URL,
            "com.cisco.datasource.schema.uuid": BYOVA_SCHEMA_UUID,
            "com.cisco.datasource.orgid": "1eb65fdf-9643-417f-9974-ad72cae0e10f",
        }) else {
            unreachable!()
        };
        Self {
            header,
            claims,
            signer: &keys().a,
        }
    }

    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.claims.insert(name.to_owned(), value.into());
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    pub fn header(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.header.insert(name.to_owned(), value.into());
        self
    }

    /// Signs with `key` and names it in the header.
    pub fn key(mut self, key: &'static TestKey) -> Self {
        self.signer = key;
        self.header("kid", key.kid)
    }

    /// The encoded header and payload segments.
    pub fn segments(&self) -> (String, String) {
        (
            b64(serde_json::to_vec(&self.header).expect("json")),
            b64(serde_json::to_vec(&self.claims).expect("json")),
        )
    }

    /// The compact JWS, RS256-signed by the signer.
    pub fn sign(&self) -> String {
        let (header, payload) = self.segments();
        let input = format!("{header}.{payload}");
        let signature = self.signer.sign(input.as_bytes());
        format!("{input}.{}", b64(signature))
    }
}

/// What the key server answers.
#[derive(Clone)]
pub enum Serve {
    Keys(Value),
    Status(u16),
    Body(&'static str),
}

struct ServerState {
    serve: Serve,
    headers: Vec<(&'static str, String)>,
    delay: Option<Duration>,
}

#[derive(Clone)]
struct JwksResponder {
    state: Arc<Mutex<ServerState>>,
    fetches: Arc<AtomicUsize>,
}

impl Respond for JwksResponder {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let state = self.state.lock().expect("state");
        let mut response = match &state.serve {
            Serve::Keys(jwks) => ResponseTemplate::new(200).set_body_json(jwks),
            Serve::Status(status) => ResponseTemplate::new(*status),
            Serve::Body(body) => ResponseTemplate::new(200).set_body_string(*body),
        };
        for (name, value) in &state.headers {
            response = response.insert_header(*name, value.as_str());
        }
        if let Some(delay) = state.delay {
            response = response.set_delay(delay);
        }
        response
    }
}

/// A loopback identity broker serving `/idb/oauth2/v2/keys/verificationjwk`; any other request
/// fails the test.
pub struct KeyServer {
    server: MockServer,
    responder: JwksResponder,
}

impl KeyServer {
    pub async fn start(serve: Serve) -> Self {
        // Not pooled: dropping it really closes the port ("key server down").
        let server = MockServer::builder().start().await;
        let responder = JwksResponder {
            state: Arc::new(Mutex::new(ServerState {
                serve,
                headers: Vec::new(),
                delay: None,
            })),
            fetches: Arc::new(AtomicUsize::new(0)),
        };
        Mock::given(method("GET"))
            .and(path(JWKS_PATH))
            .respond_with(responder.clone())
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(500))
            .with_priority(u8::MAX)
            .expect(0)
            .named("unexpected request to the key server")
            .mount(&server)
            .await;
        Self { server, responder }
    }

    /// A server publishing these keys.
    pub async fn with_keys(keys: &[&TestKey]) -> Self {
        Self::start(Serve::Keys(jwks(keys))).await
    }

    /// The issuer (`iss`) this server stands in for.
    pub fn issuer(&self) -> String {
        format!("{}/idb", self.server.uri())
    }

    pub fn serve(&self, serve: Serve) {
        self.responder.state.lock().expect("state").serve = serve;
    }

    pub fn serve_keys(&self, keys: &[&TestKey]) {
        self.serve(Serve::Keys(jwks(keys)));
    }

    pub fn set_header(&self, name: &'static str, value: impl Into<String>) {
        self.responder
            .state
            .lock()
            .expect("state")
            .headers
            .push((name, value.into()));
    }

    /// Answers only after `delay` (a slow or hanging broker).
    pub fn set_delay(&self, delay: Duration) {
        self.responder.state.lock().expect("state").delay = Some(delay);
    }

    /// How many key-set requests arrived.
    pub fn fetches(&self) -> usize {
        self.responder.fetches.load(Ordering::SeqCst)
    }

    /// Stops the server: its port refuses connections from now on.
    pub fn stop(self) -> Arc<AtomicUsize> {
        let fetches = Arc::clone(&self.responder.fetches);
        drop(self.server);
        fetches
    }
}

/// A verifier accepting only `issuer` (fetched over HTTP).
pub fn builder_for(issuer: &str) -> VerifierBuilder {
    Verifier::builder(DATASOURCE_URL).regions([]).issuer(issuer)
}

pub fn verifier_for(issuer: &str) -> Verifier {
    builder_for(issuer).build().expect("verifier")
}

/// Verifies a fresh token (never in the verified-token cache) signed with key `a`.
pub async fn verify_fresh(verifier: &Verifier, issuer: &str) -> Result<(), ErrorKind> {
    verifier
        .verify(&TokenSpec::valid(issuer).sign())
        .await
        .map(drop)
        .map_err(|err| err.kind())
}

/// An issuer on a loopback port that refuses connections.
pub fn dead_issuer() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}/idb")
}

/// Moves `tokio::time` forward by `by`, then lets it run in real time again (so loopback I/O
/// and its timeouts behave normally afterwards).
pub async fn jump(by: Duration) {
    tokio::time::pause();
    tokio::time::advance(by).await;
    tokio::time::resume();
}

/// Polls `condition` until it holds, failing the test after a generous deadline.
pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !condition().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
