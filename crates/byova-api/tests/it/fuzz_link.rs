//! Fuzz twin of `fuzz/fuzz_targets/link_header.rs`: a hostile stand-in answers with scripted
//! statuses, `Link` headers, `Retry-After`, `trackingid` and bodies.
//!
//! Invariants, whatever the server sends:
//! - nothing panics and no response is misread as a transport failure;
//! - for well-formed links, `rel="next"` is resolved as RFC 8288 says: the first link whose first
//!   `rel` parameter lists `next` (any case), resolved against the request URL; quoted parameter
//!   values are opaque;
//! - whatever the header, a reported next link is one of the `<…>` targets the server sent;
//! - a non-2xx status is the typed error of that status, with Webex's `message`, `trackingId`
//!   (body, else header, else the one we sent) and the parsed `Retry-After`;
//! - only 429 and 502–504 are retried, never more than the policy's attempts;
//! - list pages decode `{"items": [...]}` or a bare array, else fail with `Decode`; following
//!   pages requests exactly the next link, and never sends the bearer to another origin.
//!
//! The cargo-fuzz target includes this file; with `cfg(fuzzing)` the input model derives
//! `arbitrary::Arbitrary`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use byova_api::{Client, Error, ErrorKind, Page, RetryPolicy, StaticToken};
use futures_util::StreamExt as _;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use url::Url;

// ---------------------------------------------------------------------------------------------
// Input model
// ---------------------------------------------------------------------------------------------

/// One exchange: the responses the server gives, in order (the last one repeats), the client's
/// retry policy and what the client does.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub struct Input {
    /// Scripted responses; an empty script is skipped.
    pub responses: Vec<Scripted>,
    /// The client's retry policy.
    pub policy: Policy,
    /// What the client does.
    pub mode: Mode,
}

/// What the client does with the stand-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Mode {
    /// `client.get("items").send()`.
    Send,
    /// `client.list("items").first_page()`.
    FirstPage,
    /// `client.list("items").bearer(..).pages()`, up to four pages, retries off.
    Follow,
}

/// The client's retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Policy {
    /// One attempt.
    Disabled,
    /// The default: 4 attempts, 2 min deadline, `Retry-After` up to 2 min.
    Default,
    /// Any `Retry-After` is waited out, within the default 2 min deadline.
    UncappedRetryAfter,
    /// Any `Retry-After`, no deadline.
    Unbounded,
}

/// One scripted response.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub struct Scripted {
    /// Mapped into 200..=599.
    pub status: u16,
    /// One `Link` header line each.
    pub links: Vec<LinkLine>,
    /// The `Retry-After` header.
    pub retry_after: Option<RetryAfter>,
    /// The `trackingid` header (sanitized to a visible-ASCII word).
    pub tracking_id: Option<String>,
    /// The body.
    pub body: Body,
}

/// One `Link` header line.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum LinkLine {
    /// Well-formed links, comma separated.
    Links(Vec<Link>),
    /// Any text (control characters other than tab removed so that the response parses).
    Raw(String),
}

/// One well-formed link: `<target>` and parameters.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub struct Link {
    /// The URI reference.
    pub target: Target,
    /// `; name=value` parameters.
    pub params: Vec<Param>,
    /// Spaces around separators.
    pub spaced: bool,
}

/// A URI reference (sanitized to URI characters, never `<`, `>` or whitespace).
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Target {
    /// `https://webexapis.com/v1/…`, another origin.
    Absolute(String),
    /// `/…`, relative to the host.
    Path(String),
    /// `?…`, relative to the path.
    Query(String),
}

/// One link parameter.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub struct Param {
    /// Index into [`PARAM_NAMES`].
    pub name: u8,
    /// No value: `; name` (never rendered for `rel`).
    pub value: Option<ParamValue>,
    /// `name = value` with spaces.
    pub spaced: bool,
}

/// A parameter value.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum ParamValue {
    /// A bare token: index into [`REL_TYPES`].
    Token(u8),
    /// A quoted string of relation types (index into [`REL_TYPES`]), space separated.
    Rels(Vec<u8>),
    /// A quoted string; each byte is a fragment of [`QUOTED_FRAGMENTS`] or a character.
    Quoted(Vec<u8>),
}

/// `Retry-After`.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum RetryAfter {
    /// Delay-seconds.
    Seconds(u64),
    /// An HTTP date this many seconds from now.
    Date(i32),
    /// Any text.
    Raw(String),
}

/// A response body.
#[derive(Debug, Clone)]
#[cfg_attr(fuzzing, derive(arbitrary::Arbitrary))]
pub enum Body {
    /// No body.
    Empty,
    /// A Webex-shaped JSON object.
    Json {
        /// `message`.
        message: Option<String>,
        /// `trackingId`.
        tracking_id: Option<String>,
        /// Number of `errors` entries.
        errors: u8,
        /// Number of `items` (absent when `None`).
        items: Option<u8>,
        /// A bare array of that many items instead of the object.
        bare: bool,
    },
    /// Any bytes.
    Raw(Vec<u8>),
}

/// Parameter names; the first three are `rel` in other cases.
pub const PARAM_NAMES: [&str; 8] = [
    "rel", "REL", "Rel", "title", "type", "anchor", "hreflang", "media",
];

/// Relation types; the first three are `next` in other cases.
pub const REL_TYPES: [&str; 9] = [
    "next",
    "NEXT",
    "Next",
    "prev",
    "first",
    "last",
    "next-page",
    "nextx",
    "self",
];

/// Pieces of link syntax that quoted strings are made of (bytes below their count).
pub const QUOTED_FRAGMENTS: [&str; 12] = [
    ";",
    ",",
    "=",
    "<",
    ">",
    " ",
    "rel",
    "next",
    "; rel=next",
    ", <https://x.test/n>; rel=next",
    "rel=\\",
    "a b",
];

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

impl Scripted {
    fn status(&self) -> u16 {
        200 + self.status % 400
    }

    /// Statuses that carry no body.
    fn bodiless(&self) -> bool {
        matches!(self.status(), 204 | 304)
    }

    fn body_bytes(&self) -> Vec<u8> {
        if self.bodiless() {
            return Vec::new();
        }
        match &self.body {
            Body::Empty => Vec::new(),
            Body::Raw(bytes) => bytes.clone(),
            Body::Json {
                message,
                tracking_id,
                errors,
                items,
                bare,
            } => {
                let items: Option<Vec<Value>> = items.map(|n| {
                    (0..n % 8)
                        .map(|i| serde_json::json!({"id": format!("item-{i}")}))
                        .collect()
                });
                if *bare {
                    return serde_json::to_vec(&items.unwrap_or_default()).expect("json");
                }
                let mut object = serde_json::Map::new();
                if let Some(message) = message {
                    object.insert("message".into(), message.clone().into());
                }
                if let Some(tracking_id) = tracking_id {
                    object.insert("trackingId".into(), tracking_id.clone().into());
                }
                if *errors > 0 {
                    let list = (0..errors % 4)
                        .map(|i| serde_json::json!({"description": format!("error {i}")}))
                        .collect();
                    object.insert("errors".into(), Value::Array(list));
                }
                if let Some(items) = items {
                    object.insert("items".into(), Value::Array(items));
                }
                serde_json::to_vec(&Value::Object(object)).expect("json")
            }
        }
    }

    fn link_values(&self) -> Vec<String> {
        self.links.iter().map(LinkLine::render).collect()
    }

    fn retry_after_value(&self) -> Option<String> {
        self.retry_after
            .as_ref()
            .map(|retry_after| match retry_after {
                RetryAfter::Seconds(seconds) => seconds.to_string(),
                RetryAfter::Date(offset) => {
                    let offset = date_offset(*offset);
                    let now = SystemTime::now();
                    let magnitude = Duration::from_secs(offset.unsigned_abs());
                    let at = if offset >= 0 {
                        now + magnitude
                    } else {
                        now - magnitude
                    };
                    httpdate::fmt_http_date(at)
                }
                RetryAfter::Raw(text) => header_text(text),
            })
    }

    fn tracking_header(&self) -> Option<String> {
        self.tracking_id
            .as_deref()
            .map(|id| {
                id.chars()
                    .filter(char::is_ascii_graphic)
                    .collect::<String>()
            })
            .filter(|id| !id.is_empty())
    }

    /// The HTTP/1.1 response as bytes, and the values of its headers as the client sees them.
    fn render(&self) -> Vec<u8> {
        let body = self.body_bytes();
        let mut head = format!(
            "HTTP/1.1 {} Scripted\r\nconnection: close\r\n",
            self.status()
        );
        if !self.bodiless() {
            head.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        for value in self.link_values() {
            head.push_str(&format!("link: {value}\r\n"));
        }
        if let Some(value) = self.retry_after_value() {
            head.push_str(&format!("retry-after: {value}\r\n"));
        }
        if let Some(value) = self.tracking_header() {
            head.push_str(&format!("trackingid: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&body);
        bytes
    }
}

/// Seconds from now of a `Retry-After` date (within a day, so always after 1970).
fn date_offset(offset: i32) -> i64 {
    i64::from(offset) % 100_000
}

/// Header text: no control characters but tab, no leading or trailing whitespace (HTTP strips it).
fn header_text(text: &str) -> String {
    text.chars()
        .filter(|c| *c == '\t' || !c.is_control())
        .collect::<String>()
        .trim_matches([' ', '\t'])
        .to_owned()
}

impl LinkLine {
    fn render(&self) -> String {
        match self {
            Self::Raw(text) => header_text(text),
            Self::Links(links) => links
                .iter()
                .map(Link::render)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

impl Link {
    fn render(&self) -> String {
        let mut text = format!("<{}>", self.target.render());
        let separator = if self.spaced { " ; " } else { ";" };
        for param in &self.params {
            if let Some(rendered) = param.render() {
                text.push_str(separator);
                text.push_str(&rendered);
            }
        }
        text
    }

    /// RFC 8288: the first `rel` parameter counts; relation types are case-insensitive.
    fn is_next(&self) -> bool {
        self.params
            .iter()
            .find(|param| param.is_rel() && param.value.is_some())
            .and_then(|param| param.value.as_ref())
            .is_some_and(|value| {
                value
                    .text()
                    .split_ascii_whitespace()
                    .any(|rel| rel.eq_ignore_ascii_case("next"))
            })
    }
}

impl Target {
    fn render(&self) -> String {
        let clean = |text: &str| -> String {
            text.chars()
                .filter(|c| c.is_ascii_alphanumeric() || "-._~:/?#@!$&'()*+,;=%".contains(*c))
                .collect()
        };
        match self {
            Self::Absolute(path) => format!("https://webexapis.com/v1/{}", clean(path)),
            Self::Path(path) => format!("/{}", clean(path)),
            Self::Query(query) => format!("?{}", clean(query)),
        }
    }
}

impl Param {
    fn name(&self) -> &'static str {
        PARAM_NAMES[usize::from(self.name) % PARAM_NAMES.len()]
    }

    fn is_rel(&self) -> bool {
        self.name().eq_ignore_ascii_case("rel")
    }

    fn render(&self) -> Option<String> {
        let Some(value) = &self.value else {
            // A valueless `rel` is not a relation; leave it out rather than guess.
            return (!self.is_rel()).then(|| self.name().to_owned());
        };
        let rendered = match value {
            ParamValue::Token(_) => value.text(),
            ParamValue::Rels(_) | ParamValue::Quoted(_) => format!("\"{}\"", value.text()),
        };
        let eq = if self.spaced { " = " } else { "=" };
        Some(format!("{}{eq}{rendered}", self.name()))
    }
}

impl ParamValue {
    /// The value without quotes.
    fn text(&self) -> String {
        let rel = |index: &u8| REL_TYPES[usize::from(*index) % REL_TYPES.len()];
        match self {
            Self::Token(index) => rel(index).to_owned(),
            Self::Rels(indices) => indices.iter().map(rel).collect::<Vec<_>>().join(" "),
            Self::Quoted(bytes) => bytes
                .iter()
                .map(|byte| match QUOTED_FRAGMENTS.get(usize::from(*byte)) {
                    Some(fragment) => (*fragment).replace('\\', ""),
                    None => match char::from(*byte) {
                        c if c.is_ascii_graphic() && c != '"' && c != '\\' => c.to_string(),
                        _ => String::new(),
                    },
                })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The stand-in
// ---------------------------------------------------------------------------------------------

/// What the stand-in saw.
#[derive(Debug, Default)]
struct Seen {
    /// Request targets (path and query), in order.
    targets: Vec<String>,
    /// Whether each request carried `authorization`.
    authorized: Vec<bool>,
}

/// Serves `responses` in order (the last one repeats), one connection per request.
async fn stand_in(responses: Vec<Vec<u8>>) -> (std::net::SocketAddr, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut head = Vec::new();
            let mut chunk = [0_u8; 2048];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            let index = {
                let mut seen = record.lock().expect("seen");
                let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
                seen.targets.push(target);
                seen.authorized
                    .push(head.to_ascii_lowercase().contains("\r\nauthorization:"));
                seen.targets.len() - 1
            };
            let response = &responses[index.min(responses.len() - 1)];
            let _ = socket.write_all(response).await;
            let _ = socket.shutdown().await;
        }
    });
    (addr, seen)
}

// ---------------------------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------------------------

/// Runs one input against a fresh stand-in on a paused clock and asserts the invariants.
pub fn check(input: &Input) {
    if input.responses.is_empty() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");
    runtime.block_on(run(input));
}

fn policy(policy: Policy, mode: Mode) -> RetryPolicy {
    match (mode, policy) {
        (Mode::Follow, _) | (_, Policy::Disabled) => RetryPolicy::disabled(),
        (_, Policy::Default) => RetryPolicy::default(),
        (_, Policy::UncappedRetryAfter) => RetryPolicy::default().max_retry_after(Duration::MAX),
        (_, Policy::Unbounded) => RetryPolicy::default()
            .max_retry_after(Duration::MAX)
            .deadline(None),
    }
}

async fn run(input: &Input) {
    let rendered: Vec<Vec<u8>> = input.responses.iter().map(Scripted::render).collect();
    let (addr, seen) = stand_in(rendered).await;
    let retry = policy(input.policy, input.mode);
    let attempts = retry.attempts() as usize;
    let client = Client::builder()
        .base_url(format!("http://{addr}/v1"))
        .timeout(None)
        .connect_timeout(None)
        .pool_idle_timeout(None)
        .retry_policy(retry)
        .build()
        .expect("client");
    let base = Url::parse(&format!("http://{addr}/v1/items?max=2")).expect("base");

    match input.mode {
        Mode::Send => {
            let result = client.get("items").query("max", 2).send().await;
            let served = seen.lock().expect("seen").targets.len();
            let last = check_attempts(input, served, attempts);
            match result {
                Ok(response) => {
                    assert!(
                        (200..300).contains(&last.status()),
                        "{} became Ok",
                        last.status()
                    );
                    assert_eq!(response.status().as_u16(), last.status());
                    assert_eq!(response.url(), &base);
                    assert_eq!(&response.body()[..], &last.body_bytes()[..]);
                    check_next(last, &base, response.next_link().as_ref());
                }
                Err(error) => check_error(last, &error),
            }
        }
        Mode::FirstPage => {
            let result = client.list::<Value>("items").max(2).first_page().await;
            let served = seen.lock().expect("seen").targets.len();
            let last = check_attempts(input, served, attempts);
            check_page(last, &base, result);
        }
        Mode::Follow => follow(input, &client, &base, &seen).await,
    }
}

/// At least one and at most `attempts` requests; only retryable statuses were retried. Returns
/// the response the outcome is about.
fn check_attempts(input: &Input, served: usize, attempts: usize) -> &Scripted {
    assert!(
        (1..=attempts).contains(&served),
        "{served} requests for {attempts} attempts"
    );
    let script = |i: usize| &input.responses[i.min(input.responses.len() - 1)];
    for i in 0..served - 1 {
        let status = script(i).status();
        assert!(
            matches!(status, 429 | 502..=504),
            "status {status} was retried"
        );
    }
    script(served - 1)
}

/// A 2xx page: decodes as `{"items": [...]}` or a bare array, or fails with `Decode`.
fn check_page(last: &Scripted, base: &Url, result: Result<Page<Value>, Error>) {
    let status = last.status();
    if !(200..300).contains(&status) {
        check_error(last, &result.expect_err("a non-2xx status must fail"));
        return;
    }
    let body = last.body_bytes();
    let expected = expected_items(&body);
    match (result, expected) {
        (Ok(page), Some(items)) => {
            assert_eq!(page.items, items);
            check_next(last, base, page.next.as_ref());
        }
        (Err(error), None) => assert_eq!(error.kind(), ErrorKind::Decode, "{error}"),
        (Ok(page), None) => panic!("undecodable body decoded as {page:?}"),
        (Err(error), Some(items)) => panic!("{} items failed to decode: {error}", items.len()),
    }
}

/// The items of a list body: a bare array, or an object whose `items` (default empty) is one.
fn expected_items(body: &[u8]) -> Option<Vec<Value>> {
    let bare = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    if bare {
        return serde_json::from_slice(body).ok();
    }
    match serde_json::from_slice::<Value>(body).ok()? {
        Value::Object(mut object) => match object.remove("items") {
            None => Some(Vec::new()),
            Some(Value::Array(items)) => Some(items),
            Some(_) => None,
        },
        _ => None,
    }
}

/// The next link: RFC 8288 for well-formed links; one of the sent targets in any case.
fn check_next(last: &Scripted, base: &Url, next: Option<&Url>) {
    let values = last.link_values();
    if let Some(next) = next {
        assert!(
            candidates(&values, base).contains(next),
            "next link {next} was never sent; Link: {values:?}"
        );
    }
    if let Some(expected) = expected_next(&last.links, base) {
        assert_eq!(next, expected.as_ref(), "Link: {values:?}");
    }
}

/// Every `<…>` target of the lines, resolved: a superset of what a parser may report.
fn candidates(values: &[String], base: &Url) -> Vec<Url> {
    let mut out = Vec::new();
    for value in values {
        for (open, _) in value.match_indices('<') {
            let after = &value[open + 1..];
            if let Some(close) = after.find('>')
                && let Ok(url) = base.join(&after[..close])
            {
                out.push(url);
            }
        }
    }
    out
}

/// The RFC 8288 answer for well-formed links (`None` when a raw line makes it unknowable).
fn expected_next(lines: &[LinkLine], base: &Url) -> Option<Option<Url>> {
    let mut links = Vec::new();
    for line in lines {
        match line {
            LinkLine::Raw(_) => return None,
            LinkLine::Links(line) => links.extend(line),
        }
    }
    Some(
        links
            .into_iter()
            .find(|link| link.is_next())
            .and_then(|link| base.join(&link.target.render()).ok()),
    )
}

/// A non-2xx response: the typed error of its status, with what Webex said.
fn check_error(last: &Scripted, error: &Error) {
    let status = last.status();
    // Rendering or display must not panic either.
    let _ = (error.to_string(), format!("{error:?}"));
    assert!(
        !(200..300).contains(&status),
        "2xx ({status}) failed: {error}"
    );
    assert_eq!(error.status().map(|s| s.as_u16()), Some(status), "{error}");
    let api = error.api().expect("a status error carries the response");
    assert_eq!(api.status().as_u16(), status);
    assert_eq!(
        error.kind(),
        ErrorKind::from_status(api.status(), api.retry_after())
    );

    let expected_retry_after = match &last.retry_after {
        None => Some(None),
        Some(RetryAfter::Seconds(seconds)) => Some(Some(Duration::from_secs(*seconds))),
        // Dates are relative to the wall clock and raw text is whatever it is.
        Some(RetryAfter::Date(_) | RetryAfter::Raw(_)) => None,
    };
    if let Some(retry_after) = expected_retry_after {
        assert_eq!(api.retry_after(), retry_after);
    }
    if let Some(RetryAfter::Date(offset)) = &last.retry_after {
        let got = api.retry_after().expect("an HTTP date parses");
        let upper = Duration::from_secs(u64::try_from(date_offset(*offset)).unwrap_or(0));
        assert!(got <= upper, "{got:?} for a date {offset} s away");
    }

    let body = last.body_bytes();
    let object = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(object)) => Some(object),
        _ => None,
    };
    let field = |name: &str| {
        object
            .as_ref()
            .and_then(|o| o.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    assert_eq!(api.message().map(str::to_owned), field("message"));
    let tracking_id = api.tracking_id().expect("a tracking id is always known");
    match field("trackingId").or_else(|| last.tracking_header()) {
        Some(expected) => assert_eq!(tracking_id, expected),
        None => assert!(!tracking_id.is_empty()),
    }
}

/// Follows pages: each request targets the previous page's next link; another origin is
/// refused without a request (the bearer never leaves the base origin).
async fn follow(input: &Input, client: &Client, base: &Url, seen: &Mutex<Seen>) {
    let pages = client
        .list::<Value>("items")
        .max(2)
        .bearer(StaticToken::new("fuzz-bearer"))
        .pages()
        .take(4)
        .collect::<Vec<_>>()
        .await;
    let seen = seen.lock().expect("seen");
    assert!(!pages.is_empty());
    assert!(seen.authorized.iter().all(|sent| *sent));
    let script = |i: usize| &input.responses[i.min(input.responses.len() - 1)];
    let mut expected_target = format!("{}?{}", base.path(), base.query().unwrap_or_default());
    let mut base = base.clone();
    for (i, page) in pages.into_iter().enumerate() {
        match page {
            Err(error) if error.kind() == ErrorKind::InvalidRequest => {
                // Only a next link to another origin is refused, before any request.
                assert_eq!(seen.targets.len(), i, "{error}");
                return;
            }
            page => {
                assert_eq!(seen.targets.get(i), Some(&expected_target));
                let next = page.as_ref().ok().and_then(|page| page.next.clone());
                check_page(script(i), &base, page);
                let Some(next) = next else {
                    assert_eq!(seen.targets.len(), i + 1);
                    return;
                };
                expected_target = match next.query() {
                    Some(query) => format!("{}?{query}", next.path()),
                    None => next.path().to_owned(),
                };
                base = next;
            }
        }
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

    fn quoted() -> impl Strategy<Value = Vec<u8>> {
        // Mostly link-syntax fragments, some plain characters.
        vec(
            prop_oneof![3 => 0..QUOTED_FRAGMENTS.len() as u8, 1 => 32_u8..127],
            0..6,
        )
    }

    fn param() -> impl Strategy<Value = Param> {
        let value = prop_oneof![
            any::<u8>().prop_map(ParamValue::Token),
            vec(any::<u8>(), 1..4).prop_map(ParamValue::Rels),
            quoted().prop_map(ParamValue::Quoted),
        ];
        (
            any::<u8>(),
            proptest::option::weighted(0.9, value),
            any::<bool>(),
        )
            .prop_map(|(name, value, spaced)| Param {
                name,
                value,
                spaced,
            })
    }

    fn link() -> impl Strategy<Value = Link> {
        let text = "[a-z0-9/?=&,;:%-]{0,12}";
        let target = prop_oneof![
            text.prop_map(Target::Absolute),
            text.prop_map(Target::Path),
            text.prop_map(Target::Query),
        ];
        (target, vec(param(), 0..4), any::<bool>()).prop_map(|(target, params, spaced)| Link {
            target,
            params,
            spaced,
        })
    }

    fn line() -> impl Strategy<Value = LinkLine> {
        prop_oneof![
            4 => vec(link(), 0..4).prop_map(LinkLine::Links),
            1 => "[ -~<>;,\"=]{0,40}".prop_map(LinkLine::Raw),
        ]
    }

    fn retry_after() -> impl Strategy<Value = RetryAfter> {
        prop_oneof![
            prop_oneof![0_u64..200, Just(u64::MAX), any::<u64>()].prop_map(RetryAfter::Seconds),
            (-100_i32..300).prop_map(RetryAfter::Date),
            "[ -~]{0,12}".prop_map(RetryAfter::Raw),
        ]
    }

    fn body() -> impl Strategy<Value = Body> {
        prop_oneof![
            Just(Body::Empty),
            (
                proptest::option::of("[ -~]{0,10}"),
                proptest::option::of("[A-Z_0-9]{1,8}"),
                any::<u8>(),
                proptest::option::of(any::<u8>()),
                proptest::bool::weighted(0.2),
            )
                .prop_map(|(message, tracking_id, errors, items, bare)| Body::Json {
                    message,
                    tracking_id,
                    errors,
                    items,
                    bare,
                }),
            vec(any::<u8>(), 0..24).prop_map(Body::Raw),
        ]
    }

    fn status() -> impl Strategy<Value = u16> {
        // 200..=599 after mapping; weighted to the interesting ones.
        prop_oneof![
            3 => Just(0_u16),
            1 => Just(4),
            2 => Just(229),
            2 => prop_oneof![Just(302_u16), Just(303), Just(304)],
            1 => any::<u16>(),
        ]
    }

    fn scripted() -> impl Strategy<Value = Scripted> {
        (
            status(),
            vec(line(), 0..3),
            proptest::option::of(retry_after()),
            proptest::option::of("[ -~]{0,10}"),
            body(),
        )
            .prop_map(|(status, links, retry_after, tracking_id, body)| Scripted {
                status,
                links,
                retry_after,
                tracking_id,
                body,
            })
    }

    fn input() -> impl Strategy<Value = Input> {
        let policy = prop_oneof![
            Just(Policy::Disabled),
            Just(Policy::Default),
            Just(Policy::UncappedRetryAfter),
            Just(Policy::Unbounded),
        ];
        let mode = prop_oneof![Just(Mode::Send), Just(Mode::FirstPage), Just(Mode::Follow)];
        (vec(scripted(), 1..5), policy, mode).prop_map(|(responses, policy, mode)| Input {
            responses,
            policy,
            mode,
        })
    }

    fn ok_with_links(links: Vec<LinkLine>) -> Scripted {
        Scripted {
            status: 0,
            links,
            retry_after: None,
            tracking_id: None,
            body: Body::Empty,
        }
    }

    /// RFC 8288: a quoted parameter value is opaque, even when it holds `; rel=next`.
    /// Found by this twin: `parse_link_header` splits parameters on every `;`.
    #[test]
    fn a_quoted_semicolon_does_not_make_a_link_next() {
        let link = Link {
            target: Target::Path("page-2".into()),
            params: vec![
                Param {
                    name: 3, // title="x; rel=next"
                    value: Some(ParamValue::Quoted(vec![b'x', 8])),
                    spaced: false,
                },
                Param {
                    name: 0, // rel="prev"
                    value: Some(ParamValue::Rels(vec![3])),
                    spaced: false,
                },
            ],
            spaced: false,
        };
        assert_eq!(link.render(), r#"</page-2>;title="x; rel=next";rel="prev""#);
        check(&Input {
            responses: vec![ok_with_links(vec![LinkLine::Links(vec![link])])],
            policy: Policy::Disabled,
            mode: Mode::Send,
        });
    }

    /// A server's `Retry-After: 18446744073709551615` with `max_retry_after(Duration::MAX)` must
    /// fail the request (or wait), not panic on `Instant + Duration` overflow.
    #[test]
    fn a_huge_retry_after_with_an_uncapped_policy_does_not_panic() {
        let rate_limited = Scripted {
            status: 229,
            retry_after: Some(RetryAfter::Seconds(u64::MAX)),
            ..ok_with_links(Vec::new())
        };
        check(&Input {
            responses: vec![rate_limited],
            policy: Policy::UncappedRetryAfter,
            mode: Mode::Send,
        });
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(192),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn link_headers_statuses_and_bodies_from_a_hostile_server(input in input()) {
            check(&input);
        }
    }
}
