//! The local redirect listener, driven by real HTTP requests.

use std::time::Duration;

use byova_auth::{ErrorKind, RedirectListener};
use url::Url;

use crate::support::http;

const LONG: Duration = Duration::from_secs(120);

async fn listener(path: &str) -> (RedirectListener, String) {
    let uri = Url::parse(&format!("http://127.0.0.1:0{path}")).expect("uri");
    let listener = RedirectListener::bind(&uri).await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    (listener, base)
}

#[tokio::test]
async fn success_returns_the_code_and_shows_the_success_page() {
    let (listener, base) = listener("/callback").await;
    let waiting = tokio::spawn(async move { listener.wait("s-123", LONG).await });
    // Other paths are not the callback: 404, and the wait goes on.
    assert_eq!(http::get(&format!("{base}/favicon.ico")).await.status, 404);
    // The callback path without a code: 400, and the wait goes on.
    let no_code = http::get(&format!("{base}/callback?state=s-123")).await;
    assert_eq!(no_code.status, 400);
    assert_eq!(
        http::post(&format!("{base}/callback?code=x&state=s-123"))
            .await
            .status,
        405
    );

    let page = http::get(&format!("{base}/callback?code=the%2Fcode&state=s-123")).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    assert_eq!(page.headers["cache-control"], "no-store");
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    assert!(
        page.body.contains("<h1>Authorization successful</h1>"),
        "{}",
        page.body
    );

    let code = waiting.await.expect("join").expect("code");
    assert_eq!(code.code(), "the/code");
    assert_eq!(code.state(), "s-123");
    assert!(!format!("{code:?}").contains("the/code"));
}

#[tokio::test]
async fn provider_error_is_a_typed_error_and_a_failure_page() {
    let (listener, base) = listener("/cb").await;
    let waiting = tokio::spawn(async move { listener.wait("s", LONG).await });
    let page = http::get(&format!(
        "{base}/cb?error=access_denied&error_description=The+user+%3Cb%3Edeclined%3C%2Fb%3E&state=s"
    ))
    .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("<h1>Authorization failed</h1>"));
    assert!(page.body.contains("access_denied"));
    assert!(
        page.body.contains("The user &lt;b&gt;declined&lt;/b&gt;"),
        "escaped: {}",
        page.body
    );

    let error = waiting.await.expect("join").expect_err("provider error");
    assert_eq!(
        error.kind(),
        &ErrorKind::Redirect {
            error: "access_denied".into(),
            description: Some("The user <b>declined</b>".into()),
        }
    );
    assert!(error.is_redirect());
}

#[tokio::test]
async fn state_mismatch_discards_the_code() {
    let (listener, base) = listener("/callback").await;
    let waiting = tokio::spawn(async move { listener.wait("expected", LONG).await });
    let page = http::get(&format!("{base}/callback?code=abc&state=forged")).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("state_mismatch"));
    let error = waiting.await.expect("join").expect_err("mismatch");
    assert!(error.is_state_mismatch(), "{error:?}");
    assert!(!error.to_string().contains("abc"));
}

#[tokio::test(start_paused = true)]
async fn nothing_arrives_before_the_timeout() {
    let (listener, _base) = listener("/callback").await;
    let error = listener
        .wait("s", Duration::from_secs(300))
        .await
        .expect_err("timeout");
    assert!(error.is_redirect_timeout(), "{error:?}");
    assert_eq!(
        error.to_string(),
        "no OAuth redirect arrived before the timeout: waited 300s on /callback"
    );
}

#[tokio::test]
async fn a_short_real_timeout_also_ends_the_wait_and_frees_the_port() {
    let (listener, base) = listener("/callback").await;
    let addr = listener.local_addr().expect("addr");
    let error = listener
        .wait("s", Duration::from_millis(50))
        .await
        .expect_err("timeout");
    assert!(error.is_redirect_timeout());
    // The socket is closed: the port can be bound again.
    let uri = Url::parse(&format!("{base}/callback")).expect("uri");
    let again = RedirectListener::bind_to(&uri, addr)
        .await
        .expect("port free again");
    assert_eq!(again.local_addr().expect("addr"), addr);
}

#[tokio::test]
async fn two_flows_on_two_ports_at_once() {
    let (first, first_base) = listener("/one").await;
    let (second, second_base) = listener("/two").await;
    let first = tokio::spawn(async move { first.wait("state-1", LONG).await });
    let second = tokio::spawn(async move { second.wait("state-2", LONG).await });
    // Finish them in the opposite order; each gets its own code.
    assert_eq!(
        http::get(&format!("{second_base}/two?code=c2&state=state-2"))
            .await
            .status,
        200
    );
    assert_eq!(
        http::get(&format!("{first_base}/one?code=c1&state=state-1"))
            .await
            .status,
        200
    );
    assert_eq!(second.await.expect("join").expect("second").code(), "c2");
    assert_eq!(first.await.expect("join").expect("first").code(), "c1");
}

#[tokio::test]
async fn bad_redirect_uris_and_busy_ports_are_typed_errors() {
    let https = Url::parse("https://127.0.0.1:8443/callback").expect("uri");
    let error = RedirectListener::bind(&https).await.expect_err("https");
    assert_eq!(error.kind(), &ErrorKind::InvalidInput);

    let (busy, base) = listener("/callback").await;
    let uri = Url::parse(&format!("{base}/callback")).expect("uri");
    let error = RedirectListener::bind(&uri).await.expect_err("port in use");
    assert_eq!(error.kind(), &ErrorKind::Listener);
    drop(busy);
}

#[tokio::test]
async fn localhost_binds_the_ipv4_loopback() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("probe");
    let port = probe.local_addr().expect("addr").port();
    drop(probe);
    let uri = Url::parse(&format!("http://localhost:{port}/callback")).expect("uri");
    let listener = RedirectListener::bind(&uri).await.expect("bind");
    assert_eq!(
        listener.local_addr().expect("addr").to_string(),
        format!("127.0.0.1:{port}")
    );
}
