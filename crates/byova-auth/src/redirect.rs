//! The local OAuth redirect listener: a one-shot HTTP server on the redirect URI's address.
//!
//! Every listener owns its socket and channel, so several flows can run at once on different ports.

use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use url::Url;

use crate::error::{Error, ErrorKind, Result};
use crate::redirect_page;

/// How long answered connections get to finish writing their page before they are dropped.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The default time to wait for the browser to come back.
pub const DEFAULT_REDIRECT_TIMEOUT: Duration = Duration::from_secs(300);

/// The code and state the authorization server sent back to the redirect URI.
///
/// `Debug` hides the code: it can be exchanged for tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    code: String,
    state: String,
}

impl AuthorizationCode {
    /// Wraps a code received some other way (for example pasted by a user).
    pub fn new(code: impl Into<String>, state: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            state: state.into(),
        }
    }

    /// Reads the code and state from the URL the browser was sent back to, for a flow finished
    /// by hand (the user pastes the address bar). Check the state with
    /// [`IntegrationAuth::complete`](crate::IntegrationAuth::complete).
    ///
    /// # Errors
    /// [`ErrorKind::Redirect`] when the URL carries `error`; [`ErrorKind::InvalidInput`] when it
    /// has no `code`.
    pub fn from_redirect_url(url: &Url) -> Result<Self> {
        let callback = Callback::parse(url.query());
        if let Some(error) = callback.error {
            return Err(Error::new(ErrorKind::Redirect {
                error,
                description: callback.description,
            }));
        }
        match callback.code.filter(|code| !code.is_empty()) {
            Some(code) => Ok(Self {
                code,
                state: callback.state.unwrap_or_default(),
            }),
            None => Err(Error::with_message(
                ErrorKind::InvalidInput,
                "the redirect URL has no code",
            )),
        }
    }

    /// The authorization code, for the code exchange.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The `state` that came back.
    pub fn state(&self) -> &str {
        &self.state
    }
}

impl fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCode")
            .field("code", &"<redacted>")
            .field("state", &self.state)
            .finish()
    }
}

/// A bound redirect listener. Bind it before opening the browser, then [`wait`](Self::wait).
///
/// It speaks plain HTTP, as browsers do towards `http://127.0.0.1:<port>/...` or
/// `http://localhost:<port>/...` redirect URIs. For any other setup (TLS terminated in front, a
/// container port mapping) use [`bind_to`](Self::bind_to) with the local address to listen on.
#[derive(Debug)]
pub struct RedirectListener {
    listener: TcpListener,
    path: String,
}

impl RedirectListener {
    /// Listens on the redirect URI's host and port (the scheme's default port when none is given;
    /// `localhost` means `127.0.0.1`). The port is taken exactly as registered: a redirect URI must
    /// match the Integration's registration, so nothing is rewritten.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the URI is not `http` or has no host;
    /// [`ErrorKind::Listener`] when the address cannot be bound.
    pub async fn bind(redirect_uri: &Url) -> Result<Self> {
        if redirect_uri.scheme() != "http" {
            return Err(Error::with_message(
                ErrorKind::InvalidInput,
                "the local redirect listener speaks plain HTTP: register an http://127.0.0.1:<port>/ \
                 redirect URI, use bind_to behind a TLS proxy, or exchange the code by hand",
            ));
        }
        let host = match redirect_uri.host_str() {
            Some("localhost") => "127.0.0.1".to_owned(),
            Some(host) => host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            None => {
                return Err(Error::with_message(
                    ErrorKind::InvalidInput,
                    "the redirect URI has no host",
                ));
            }
        };
        let port = redirect_uri.port_or_known_default().unwrap_or(80);
        Self::bind_to(redirect_uri, (host.as_str(), port)).await
    }

    /// Listens on `addr` and accepts redirects to the path of `redirect_uri`.
    ///
    /// # Errors
    /// [`ErrorKind::Listener`] when the address cannot be bound.
    pub async fn bind_to(redirect_uri: &Url, addr: impl ToSocketAddrs) -> Result<Self> {
        let listener = TcpListener::bind(addr).await.map_err(|error| {
            Error::build(
                ErrorKind::Listener,
                Some(format!("cannot listen for the redirect to {redirect_uri}").into()),
                Some(Box::new(error)),
            )
        })?;
        Ok(Self {
            listener,
            path: redirect_uri.path().to_owned(),
        })
    }

    /// The address actually bound (useful with port 0).
    ///
    /// # Errors
    /// [`ErrorKind::Listener`] when the socket has no local address.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.listener
            .local_addr()
            .map_err(|error| Error::with_source(ErrorKind::Listener, error))
    }

    /// Serves until a redirect arrives on the path, then answers it with a small HTML page and
    /// returns. Requests to other paths get 404; a callback without `code` (and without `error`)
    /// gets 400 and the wait goes on.
    ///
    /// # Errors
    /// - [`ErrorKind::Redirect`] when the redirect carries `error` (the browser shows a failure page);
    /// - [`ErrorKind::StateMismatch`] when its `state` differs from `expected_state`;
    /// - [`ErrorKind::RedirectTimeout`] when nothing arrived within `timeout`.
    pub async fn wait(self, expected_state: &str, timeout: Duration) -> Result<AuthorizationCode> {
        let (outcome_tx, mut outcome_rx) = mpsc::channel(1);
        let context = Arc::new(Context {
            path: self.path,
            expected_state: expected_state.to_owned(),
            outcome: outcome_tx,
        });
        let graceful = GracefulShutdown::new();
        let mut connections = JoinSet::new();
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let outcome = loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let Ok((stream, _peer)) = accepted else {
                        // Accept errors (for example too many open files) are transient: back off
                        // a little and keep waiting for the browser.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    };
                    let context = Arc::clone(&context);
                    let connection = http1::Builder::new()
                        .keep_alive(false)
                        .serve_connection(
                            TokioIo::new(stream),
                            service_fn(move |request| {
                                let context = Arc::clone(&context);
                                async move { Ok::<_, Infallible>(context.answer(&request)) }
                            }),
                        );
                    let connection = graceful.watch(connection);
                    connections.spawn(async move {
                        // A browser that hangs up early is not our problem.
                        let _ = connection.await;
                    });
                }
                Some(outcome) = outcome_rx.recv() => break outcome,
                () = &mut deadline => break Err(Error::with_message(
                    ErrorKind::RedirectTimeout,
                    format!("waited {}s on {}", timeout.as_secs(), context.path),
                )),
            }
        };
        drop(self.listener);
        // Let the answered connection finish writing its page, but never hang on a stuck one.
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await;
        connections.shutdown().await;
        outcome
    }
}

/// The query parameters of an OAuth callback (the first of each).
#[derive(Default)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    description: Option<String>,
}

impl Callback {
    fn parse(query: Option<&str>) -> Self {
        let mut callback = Self::default();
        for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let slot = match key.as_ref() {
                "code" => &mut callback.code,
                "state" => &mut callback.state,
                "error" => &mut callback.error,
                "error_description" => &mut callback.description,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.into_owned());
            }
        }
        callback
    }
}

struct Context {
    path: String,
    expected_state: String,
    outcome: mpsc::Sender<Result<AuthorizationCode>>,
}

impl Context {
    fn answer(&self, request: &Request<Incoming>) -> Response<Full<Bytes>> {
        if request.uri().path() != self.path {
            return plain(StatusCode::NOT_FOUND, "not found");
        }
        if request.method() != Method::GET {
            return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        }
        let Callback {
            code,
            state,
            error,
            description,
        } = Callback::parse(request.uri().query());
        if let Some(error) = error {
            let page = redirect_page::failure(&error, description.as_deref());
            self.finish(Err(Error::new(ErrorKind::Redirect { error, description })));
            return html(StatusCode::BAD_REQUEST, page);
        }
        let Some(code) = code.filter(|code| !code.is_empty()) else {
            return html(
                StatusCode::BAD_REQUEST,
                redirect_page::failure("invalid_request", Some("The redirect carried no code.")),
            );
        };
        let state = state.unwrap_or_default();
        if state != self.expected_state {
            self.finish(Err(Error::new(ErrorKind::StateMismatch)));
            return html(
                StatusCode::BAD_REQUEST,
                redirect_page::failure(
                    "state_mismatch",
                    Some("The state does not match this sign-in; start again."),
                ),
            );
        }
        self.finish(Ok(AuthorizationCode { code, state }));
        html(StatusCode::OK, redirect_page::success())
    }

    fn finish(&self, outcome: Result<AuthorizationCode>) {
        // Only the first outcome counts; later ones find the channel full or closed.
        let _ = self.outcome.try_send(outcome);
    }
}

fn html(status: StatusCode, page: String) -> Response<Full<Bytes>> {
    response(status, "text/html; charset=utf-8", page)
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    response(status, "text/plain; charset=utf-8", text.to_owned())
}

fn response(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    // The page's URL holds the code: keep it out of Referer headers.
    headers.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_redirect_url_gives_the_code_or_a_typed_error() {
        let url = Url::parse("http://127.0.0.1:8765/callback?code=a%2Bb&state=s1&code=ignored")
            .expect("url");
        let code = AuthorizationCode::from_redirect_url(&url).expect("code");
        assert_eq!((code.code(), code.state()), ("a+b", "s1"));

        let denied = Url::parse("http://127.0.0.1:8765/callback?error=access_denied").expect("url");
        let error = AuthorizationCode::from_redirect_url(&denied).expect_err("denied");
        assert_eq!(
            error.kind(),
            &ErrorKind::Redirect {
                error: "access_denied".into(),
                description: None
            }
        );
        let empty = Url::parse("http://127.0.0.1:8765/callback?state=s").expect("url");
        let error = AuthorizationCode::from_redirect_url(&empty).expect_err("no code");
        assert_eq!(error.kind(), &ErrorKind::InvalidInput);
    }
}
