//! Running the real `byova` binary, and the fixtures the tests share.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use byova::api::test_util::WebexStandIn;
use byova::auth::storage::{FileTokenStorage, TokenStorage};
use byova::media::audio::{self, PromptAudio};
use byova::models::{OAuthTokens, OrgId};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The longest any single step of a test may take on a loaded machine.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// The bearer tests pass with `--token`.
pub const TOKEN: &str = "cli-static-token";
pub const INTEGRATION_ID: &str = "int-client";
pub const INTEGRATION_SECRET: &str = "int-secret-value";
pub const SA_ID: &str = "sa-id";
pub const SA_SECRET: &str = "sa-secret-value";
pub const ORG: &str = "63b02f90-0be4-4b43-9e78-cad425ac554c";
pub const DATASOURCE_URL: &str = "https://va.example.com/byova";
pub const BYOVA_SCHEMA: &str = "5397013b-7920-4ffc-807c-e8a3e0a18f43";
/// A JWS-shaped token; tests check it never shows unless asked for.
pub const JWS: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYWxsQXVkaW9EYXRhIn0.c2lnbmF0dXJl";

pub fn org() -> OrgId {
    ORG.parse().expect("org")
}

/// A data source as Webex returns it.
pub fn data_source(id: &str) -> Value {
    json!({
        "id": id,
        "schemaId": BYOVA_SCHEMA,
        "orgId": ORG,
        "url": DATASOURCE_URL,
        "audience": "BYOVAGateway",
        "subject": "callAudioData",
        "nonce": "nonce-1",
        "status": "active",
        "jwsToken": JWS,
        "tokenLifetimeMinutes": 1440,
        "tokenExpiryTime": "2030-01-01T00:00:00Z",
        "createdBy": "admin@example.com",
    })
}

/// `value` with its string secrets replaced as the CLI prints them.
pub fn redacted(mut value: Value) -> Value {
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    if ["jwsToken", "secret"].contains(&key.as_str()) && value.is_string() {
                        *value = json!("[redacted]");
                    } else {
                        walk(value);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut value);
    value
}

/// Tokens valid for 14 days from now, with a 90-day refresh token.
pub fn fresh(access: &str, refresh: &str) -> OAuthTokens {
    OAuthTokens::new(access, 1_209_600, OffsetDateTime::now_utc())
        .with_refresh_token(refresh, Some(7_776_000))
}

/// A file token store in a temporary directory.
pub struct Store {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub storage: FileTokenStorage,
}

impl Store {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tokens.json");
        let storage = FileTokenStorage::new(&path);
        Self {
            _dir: dir,
            path,
            storage,
        }
    }

    /// `--token-store` for this store.
    pub fn spec(&self) -> String {
        format!("file:{}", self.path.display())
    }

    pub async fn sign_in(&self) {
        self.storage
            .set_integration_tokens(&fresh("int-access", "int-refresh"))
            .await
            .expect("store");
    }

    pub async fn register_org(&self) {
        self.storage
            .set_service_app_tokens(&org(), &fresh("sa-access", "sa-refresh"))
            .await
            .expect("store");
    }
}

/// What a finished run left behind.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Stdout parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    /// The last line of stderr parsed as JSON (errors with `--json`; warnings may precede it).
    pub fn error_json(&self) -> Value {
        serde_json::from_str(self.stderr.lines().last().unwrap_or_default())
            .unwrap_or_else(|e| panic!("stderr does not end with JSON ({e}): {self:?}"))
    }

    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert_eq!(self.code, 0, "{self:#?}");
        assert_eq!(self.stderr, "", "{self:#?}");
        self
    }

    #[track_caller]
    pub fn assert_failure(&self) -> &Self {
        assert_eq!(self.code, 1, "{self:#?}");
        assert_eq!(self.stdout, "", "{self:#?}");
        self
    }

    #[track_caller]
    pub fn assert_usage(&self) -> &Self {
        assert_eq!(self.code, 2, "{self:#?}");
        assert_eq!(self.stdout, "", "{self:#?}");
        self
    }
}

/// One invocation of the binary, with a clean environment.
pub struct Byova {
    args: Vec<String>,
    env: BTreeMap<String, String>,
    stdin: Option<Vec<u8>>,
}

/// `byova` with no environment at all.
pub fn byova() -> Byova {
    Byova {
        args: Vec::new(),
        env: BTreeMap::new(),
        stdin: None,
    }
}

/// `byova` pointed at the stand-in (`WEBEX_BASE_URL`).
pub fn byova_at(webex: &WebexStandIn) -> Byova {
    byova().env("WEBEX_BASE_URL", &webex.uri())
}

impl Byova {
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, args: I) -> Self {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    /// The four credential variables.
    pub fn credentials(self) -> Self {
        self.env("WEBEX_INTEGRATION_CLIENT_ID", INTEGRATION_ID)
            .env("WEBEX_INTEGRATION_CLIENT_SECRET", INTEGRATION_SECRET)
            .env("WEBEX_SA_CLIENT_ID", SA_ID)
            .env("WEBEX_SA_CLIENT_SECRET", SA_SECRET)
    }

    pub fn store(self, store: &Store) -> Self {
        self.env("WEBEX_TOKEN_STORE", &store.spec())
    }

    pub fn stdin(mut self, input: &str) -> Self {
        self.stdin = Some(input.as_bytes().to_vec());
        self
    }

    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_byova"));
        command
            .args(&self.args)
            .env_clear()
            .envs(&self.env)
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    /// Runs to completion.
    pub async fn run(self) -> Outcome {
        let mut child = self.command().spawn().expect("spawn byova");
        if let Some(input) = &self.stdin {
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(input).await.expect("write stdin");
        }
        let output = tokio::time::timeout(DEADLINE, child.wait_with_output())
            .await
            .expect("byova finished in time")
            .expect("byova output");
        Outcome {
            code: output.status.code().expect("exited, not killed"),
            stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
        }
    }

    /// Starts it, to talk to while it runs. Stderr is collected in the background.
    pub fn spawn(self) -> Running {
        let mut child = self.command().spawn().expect("spawn byova");
        let stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let (stderr_tx, stderr_rx) = watch::channel(Vec::new());
        let stderr_reader = tokio::spawn(async move {
            while let Ok(Some(line)) = stderr.next_line().await {
                stderr_tx.send_modify(|lines: &mut Vec<String>| lines.push(line));
            }
        });
        Running {
            child,
            stdout,
            stderr: stderr_rx,
            stderr_reader,
            stdout_seen: Vec::new(),
        }
    }
}

/// A running `byova`.
pub struct Running {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: watch::Receiver<Vec<String>>,
    stderr_reader: JoinHandle<()>,
    pub stdout_seen: Vec<String>,
}

impl Running {
    /// The next stdout line (`None` at the end).
    pub async fn stdout_line(&mut self) -> Option<String> {
        let Ok(line) = tokio::time::timeout(DEADLINE, self.stdout.next_line()).await else {
            let _ = self.child.start_kill();
            panic!(
                "no stdout line in time; stdout so far: {:#?}; stderr: {:#?}",
                self.stdout_seen,
                self.stderr.borrow()
            );
        };
        let line = line.expect("read stdout");
        self.stdout_seen.extend(line.clone());
        line
    }

    /// Waits until a stderr line satisfies `wanted`, and returns it.
    pub async fn stderr_until(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        let found = tokio::time::timeout(
            DEADLINE,
            self.stderr
                .wait_for(|lines| lines.iter().any(|line| wanted(line))),
        )
        .await
        .map(|lines| lines.map(|lines| lines.iter().find(|line| wanted(line)).cloned()));
        match found {
            Ok(Ok(Some(line))) => line,
            _ => panic!("the stderr line did not come: {:#?}", self.stderr.borrow()),
        }
    }

    /// Reads the first stdout line, `listening on HOST:PORT` (`byova serve`), and returns the
    /// address.
    pub async fn listening_addr(&mut self) -> SocketAddr {
        let line = self.stdout_line().await.expect("a listening line");
        line.strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .expect("HOST:PORT")
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// Sends SIGTERM, as a service manager does.
    pub async fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .await
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits for the exit and collects the rest of the output.
    pub async fn finish(mut self) -> Outcome {
        while self.stdout_line().await.is_some() {}
        tokio::time::timeout(DEADLINE, &mut self.stderr_reader)
            .await
            .expect("stderr closed in time")
            .expect("stderr reader");
        let status = tokio::time::timeout(DEADLINE, self.child.wait())
            .await
            .expect("byova exited in time")
            .expect("wait");
        let stderr = self.stderr.borrow().clone();
        Outcome {
            code: status.code().expect("exited, not killed"),
            stdout: lines(&self.stdout_seen),
            stderr: lines(&stderr),
        }
    }
}

fn lines(lines: &[String]) -> String {
    lines.iter().map(|line| format!("{line}\n")).collect()
}

/// A loopback port nothing listens on right now (for redirect URIs that must name their port).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The text of a file, or an empty string when it does not exist.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A μ-law WAV file as 8 kHz μ-law.
pub fn wav_as_mulaw(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    audio::to_mulaw_8k(PromptAudio::Wav(&bytes)).expect("a μ-law WAV file")
}

/// A spoken fixture of the workspace (`tests/fixtures`), as 8 kHz μ-law.
pub fn fixture(name: &str) -> Vec<u8> {
    wav_as_mulaw(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures")
            .join(name),
    )
}

/// The path of a TLS file of the byova-media tests: `ca.pem`, and `server.pem` / `server.key`
/// (a certificate for localhost and 127.0.0.1 signed by that CA).
pub fn tls_fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../byova-media/tests/fixtures/tls")
        .join(name)
        .to_str()
        .expect("a UTF-8 path")
        .to_owned()
}
