//! `byova auth status` (straight from the store) and `byova auth login` (the browser flow,
//! with the test playing the browser).

use byova::api::Client;
use byova::api::test_util::wiremock::{Mock, Request};
use byova::api::test_util::{WebexStandIn, matchers as m, responses};
use byova::auth::storage::TokenStorage as _;
use serde_json::json;

use crate::support::{
    INTEGRATION_ID, INTEGRATION_SECRET, ORG, Store, byova, byova_at, free_port, read,
};

#[tokio::test]
async fn status_describes_the_tokens_and_never_prints_them() {
    let store = Store::new();
    store.sign_in().await;
    store.register_org().await;
    let outcome = byova().store(&store).args(["auth", "status"]).run().await;
    outcome.assert_success();
    let lines: Vec<&str> = outcome.stdout.lines().collect();
    assert_eq!(lines[0], format!("Token store: {}", store.spec()));
    assert_eq!(lines[1], "Integration: signed in");
    assert!(
        lines[2].starts_with("  access token:  valid, expires 20"),
        "{outcome:?}"
    );
    assert!(
        lines[3].starts_with("  refresh token: valid, expires 20"),
        "{outcome:?}"
    );
    assert_eq!(lines[4], "Service App: 1 org(s) registered");
    assert_eq!(lines[5], "");
    assert!(lines[6].starts_with("ORG  "), "{outcome:?}");
    assert!(
        lines[7].starts_with(&format!("{ORG}  valid, expires 20")),
        "{outcome:?}"
    );
    for secret in ["int-access", "int-refresh", "sa-access", "sa-refresh"] {
        assert!(
            !outcome.stdout.contains(secret),
            "{secret} printed: {outcome:?}"
        );
    }

    let outcome = byova()
        .args(["auth", "status", "--json", "--token-store", &store.spec()])
        .run()
        .await;
    outcome.assert_success();
    let status = outcome.json();
    assert_eq!(status["tokenStore"], store.spec());
    assert_eq!(status["integration"]["accessTokenValid"], true);
    assert_eq!(status["integration"]["refreshable"], true);
    assert_eq!(status["serviceApps"][0]["orgId"], ORG);
    assert_eq!(status["serviceApps"][0]["accessTokenValid"], true);
    for secret in ["int-access", "int-refresh", "sa-access", "sa-refresh"] {
        assert!(
            !outcome.stdout.contains(secret),
            "{secret} printed: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn status_of_an_empty_store() {
    let store = Store::new();
    let outcome = byova().store(&store).args(["auth", "status"]).run().await;
    outcome.assert_success();
    assert_eq!(
        outcome.stdout,
        format!(
            "Token store: {}\n\
             Integration: not signed in (run `byova auth login`)\n\
             Service App: no org registered\n",
            store.spec()
        )
    );
    let outcome = byova()
        .store(&store)
        .args(["auth", "status", "--json"])
        .run()
        .await;
    outcome.assert_success();
    assert_eq!(
        outcome.json(),
        json!({"tokenStore": store.spec(), "integration": null, "serviceApps": []})
    );
}

#[tokio::test]
async fn status_of_an_unreadable_store_exits_1() {
    let store = Store::new();
    std::fs::write(&store.path, "{ not json").expect("write");
    let outcome = byova().store(&store).args(["auth", "status"]).run().await;
    outcome.assert_failure();
    // A warning about the file's mode comes first.
    let mut lines = outcome.stderr.lines();
    assert!(
        lines
            .next()
            .expect("a warning")
            .contains("the token file is readable by other users"),
        "{outcome:?}"
    );
    let error = lines.next().expect("an error line");
    assert!(
        error.starts_with("error: token storage failed: "),
        "{outcome:?}"
    );
    assert!(
        error.ends_with(
            "tokens.json is not a valid token file; fix or remove it: key must be a string at \
             line 1 column 3"
        ),
        "{outcome:?}"
    );
    // The broken file is left as it was.
    assert_eq!(read(&store.path), "{ not json");
}

/// The pieces of the authorization URL the CLI printed.
struct Printed {
    redirect_uri: String,
    state: String,
    challenge: Option<String>,
}

fn parse_url(line: &str) -> Printed {
    let url = url_of(line);
    let query = url.split_once('?').expect("query").1;
    let mut printed = Printed {
        redirect_uri: String::new(),
        state: String::new(),
        challenge: None,
    };
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').expect("pair");
        let value = percent_decode(value);
        match key {
            "redirect_uri" => printed.redirect_uri = value,
            "state" => printed.state = value,
            "code_challenge" => printed.challenge = Some(value),
            _ => {}
        }
    }
    printed
}

fn url_of(line: &str) -> &str {
    line.trim()
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                out.push(u8::from_str_radix(&value[i + 1..i + 3], 16).expect("hex"));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("utf-8")
}

fn form(request: &Request) -> Vec<(String, String)> {
    String::from_utf8_lossy(&request.body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), percent_decode(v)))
        .collect()
}

#[tokio::test]
async fn login_prints_the_url_takes_the_redirect_and_stores_the_tokens() {
    let webex = WebexStandIn::start().await;
    let store = Store::new();
    let redirect_uri = format!("http://127.0.0.1:{}/callback", free_port());
    let expected_redirect = redirect_uri.clone();
    Mock::given(m::method("POST"))
        .and(m::path("/access_token"))
        .and(m::form_content())
        .and(m::no_header("authorization"))
        .and(move |request: &Request| {
            let form = form(request);
            let names: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
            let value = |name: &str| {
                form.iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
            };
            names
                == [
                    "grant_type",
                    "code",
                    "client_id",
                    "client_secret",
                    "redirect_uri",
                    "code_verifier",
                ]
                && value("grant_type") == Some("authorization_code")
                && value("code") == Some("the-code")
                && value("client_id") == Some(INTEGRATION_ID)
                && value("client_secret") == Some(INTEGRATION_SECRET)
                && value("redirect_uri") == Some(expected_redirect.as_str())
                && value("code_verifier").is_some_and(|v| v.len() >= 43)
        })
        .respond_with(responses::json(json!({
            "access_token": "int-access-new",
            "expires_in": 1_209_600,
            "refresh_token": "int-refresh-new",
            "refresh_token_expires_in": 7_776_000,
            "scope": "spark:all spark:applications_token",
        })))
        .expect(1)
        .mount(webex.server())
        .await;

    let mut running = byova_at(&webex)
        .credentials()
        .store(&store)
        .env("WEBEX_INTEGRATION_REDIRECT_URI", &redirect_uri)
        .args(["auth", "login", "--timeout", "120"])
        .spawn();
    let authorize = format!("{}/authorize?", webex.uri());
    let line = running
        .stderr_until(|line| line.trim_start().starts_with(&authorize))
        .await;
    let printed = parse_url(&line);
    assert_eq!(printed.redirect_uri, redirect_uri);
    assert!(printed.challenge.is_some(), "PKCE is on by default: {line}");
    assert!(
        line.contains(&format!("client_id={INTEGRATION_ID}&")),
        "{line}"
    );

    // The browser comes back with the code.
    let browser = Client::builder().build().expect("client");
    let answer = browser
        .get(format!(
            "{redirect_uri}?code=the-code&state={}",
            printed.state
        ))
        .send_raw()
        .await
        .expect("redirect answered");
    assert_eq!(answer.status(), 200);

    let outcome = running.finish().await;
    assert_eq!(outcome.code, 0, "{outcome:?}");
    let lines: Vec<&str> = outcome.stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!("Signed in; tokens stored in {}.", store.spec())
    );
    assert!(
        lines[1].starts_with("access token:  valid, expires 20"),
        "{outcome:?}"
    );
    assert!(
        lines[2].starts_with("refresh token: valid, expires 20"),
        "{outcome:?}"
    );
    assert_eq!(
        lines[3],
        "scopes:        spark:all spark:applications_token"
    );
    assert!(!outcome.stdout.contains("int-access-new"));
    assert!(
        !outcome.stderr.contains("the-code"),
        "the code leaked: {outcome:?}"
    );
    let stored = store
        .storage
        .integration_tokens()
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.access_token.expose(), "int-access-new");
    assert_eq!(
        stored.refresh_token.expect("refresh").expose(),
        "int-refresh-new"
    );
    webex.verify().await;
}

#[tokio::test]
async fn login_with_a_forged_state_exits_1_and_stores_nothing() {
    let webex = WebexStandIn::start().await;
    let store = Store::new();
    let redirect_uri = format!("http://127.0.0.1:{}/callback", free_port());
    let mut running = byova_at(&webex)
        .credentials()
        .store(&store)
        .env("WEBEX_INTEGRATION_REDIRECT_URI", &redirect_uri)
        .args([
            "auth",
            "login",
            "--no-pkce",
            "--scope",
            "spark:all",
            "--json",
        ])
        .spawn();
    let authorize = format!("{}/authorize?", webex.uri());
    let line = running
        .stderr_until(|line| line.trim_start().starts_with(&authorize))
        .await;
    let printed = parse_url(&line);
    assert_eq!(printed.challenge, None, "--no-pkce: {line}");
    assert!(line.contains("scope=spark%3Aall&"), "{line}");

    let browser = Client::builder().build().expect("client");
    let answer = browser
        .get(format!("{redirect_uri}?code=the-code&state=forged"))
        .send_raw()
        .await
        .expect("redirect answered");
    assert_eq!(answer.status(), 400);

    let outcome = running.finish().await;
    assert_eq!(outcome.code, 1, "{outcome:?}");
    assert_eq!(outcome.stdout, "");
    let error: serde_json::Value =
        serde_json::from_str(outcome.stderr.lines().last().expect("error line")).expect("json");
    assert_eq!(error["error"]["kind"], "state_mismatch", "{error}");
    assert_eq!(
        store.storage.integration_tokens().await.expect("read"),
        None
    );
    webex.verify().await;
}

#[tokio::test]
async fn login_refuses_a_memory_store() {
    let outcome = byova()
        .credentials()
        .args(["auth", "login", "--token-store", "memory"])
        .run()
        .await;
    outcome.assert_usage();
    assert!(
        outcome
            .stderr
            .starts_with("error: the memory token store forgets the tokens"),
        "{outcome:?}"
    );
}
