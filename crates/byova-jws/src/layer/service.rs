//! The tower [`Service`] that verifies the token of each request before calling the inner one.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::AUTHORIZATION;
use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_service::Service;

use super::body::JwsAuthBody;
use super::grpc::{Code, error_response};
use crate::error::Error;
use crate::verifier::Verifier;

/// The service made by [`JwsAuthLayer`](super::JwsAuthLayer).
#[derive(Clone)]
pub struct JwsAuth<S> {
    inner: S,
    verifier: Verifier,
    exempt: Arc<[String]>,
}

impl<S> JwsAuth<S> {
    pub(crate) fn new(inner: S, verifier: Verifier, exempt: Arc<[String]>) -> Self {
        Self {
            inner,
            verifier,
            exempt,
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    fn is_exempt(&self, path: &str) -> bool {
        self.exempt
            .iter()
            .any(|prefix| path.starts_with(prefix.as_str()))
    }
}

impl<S: fmt::Debug> fmt::Debug for JwsAuth<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwsAuth")
            .field("inner", &self.inner)
            .field("exempt", &self.exempt)
            .finish_non_exhaustive()
    }
}

type Verifying<B, E> = Pin<Box<dyn Future<Output = Result<Response<JwsAuthBody<B>>, E>> + Send>>;

pin_project! {
    /// The response future of [`JwsAuth`].
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        state: State<F, B, E>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B, E> {
        // Exempt or already verified: the inner service's future.
        Inner { #[pin] future: F },
        // Verification (which may fetch a key set) and then the inner call.
        Verifying { future: Verifying<B, E> },
        // Refused before any async work.
        Rejected { response: Option<Response<JwsAuthBody<B>>> },
    }
}

impl<F, B, E> fmt::Debug for ResponseFuture<F, B, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Inner { .. } => "Inner",
            State::Verifying { .. } => "Verifying",
            State::Rejected { .. } => "Rejected",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

impl<F, B, E> Future for ResponseFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<JwsAuthBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future } => future
                .poll(cx)
                .map(|result| result.map(|response| response.map(JwsAuthBody::inner))),
            StateProj::Verifying { future } => future.as_mut().poll(cx),
            StateProj::Rejected { response } => Poll::Ready(Ok(response
                .take()
                .expect("ResponseFuture polled after completion"))),
        }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for JwsAuth<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: 'static,
{
    type Response = Response<JwsAuthBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // `inner` is the instance that was polled ready; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);

        if self.is_exempt(request.uri().path()) {
            return ResponseFuture::inner(inner.call(request));
        }
        let token = match bearer_token(&request) {
            Ok(token) => token,
            Err(reason) => {
                tracing::info!(path = request.uri().path(), reason, "request rejected");
                return ResponseFuture::rejected(error_response(
                    Code::Unauthenticated,
                    &format!("JWS verification failed: {reason}"),
                ));
            }
        };
        if let Some(claims) = self.verifier.cached(token) {
            request.extensions_mut().insert(claims);
            return ResponseFuture::inner(inner.call(request));
        }

        let token = token.to_owned();
        let verifier = self.verifier.clone();
        ResponseFuture::verifying(Box::pin(async move {
            match verifier.verify(&token).await {
                Ok(claims) => {
                    request.extensions_mut().insert(claims);
                    let response = inner.call(request).await?;
                    Ok(response.map(JwsAuthBody::inner))
                }
                Err(err) => Ok(rejection(request.uri().path(), &err)),
            }
        }))
    }
}

impl<F, B, E> ResponseFuture<F, B, E> {
    fn inner(future: F) -> Self {
        Self {
            state: State::Inner { future },
        }
    }

    fn verifying(future: Verifying<B, E>) -> Self {
        Self {
            state: State::Verifying { future },
        }
    }

    fn rejected(response: Response<JwsAuthBody<B>>) -> Self {
        Self {
            state: State::Rejected {
                response: Some(response),
            },
        }
    }
}

/// The token of a request: the single `authorization` value, with or without `Bearer `.
fn bearer_token<B>(request: &Request<B>) -> Result<&str, &'static str> {
    let mut values = request.headers().get_all(AUTHORIZATION).iter();
    let value = values.next().ok_or("no `authorization` metadata")?;
    if values.next().is_some() {
        return Err("more than one `authorization` value");
    }
    let value = value
        .to_str()
        .map_err(|_| "the `authorization` value is not ASCII")?
        .trim();
    // `to_str` guarantees visible ASCII, so byte offsets are char boundaries.
    let has_scheme = value
        .get(..6)
        .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
        && value.as_bytes().get(6).is_none_or(u8::is_ascii_whitespace);
    let token = if has_scheme {
        value[6..].trim_start()
    } else {
        value
    };
    if token.is_empty() {
        return Err("the `authorization` value is empty");
    }
    Ok(token)
}

fn rejection<B>(path: &str, err: &Error) -> Response<JwsAuthBody<B>> {
    let code = if err.is_key_set_unavailable() {
        Code::Unavailable
    } else {
        Code::Unauthenticated
    };
    // The log gets the detail (expected and received claim values); the caller gets the kind.
    tracing::warn!(path, error = %err, "request rejected: JWS verification failed");
    error_response(code, &format!("JWS verification failed: {}", err.kind()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(values: &[&str]) -> Request<()> {
        let mut builder = Request::builder().uri("/pkg.Svc/Method");
        for value in values {
            builder = builder.header(AUTHORIZATION, *value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn extracts_the_token_with_or_without_bearer() {
        assert_eq!(
            bearer_token(&request(&["Bearer abc.def.ghi"])),
            Ok("abc.def.ghi")
        );
        assert_eq!(bearer_token(&request(&["bearer   abc"])), Ok("abc"));
        assert_eq!(bearer_token(&request(&["BEARER abc"])), Ok("abc"));
        assert_eq!(bearer_token(&request(&["abc.def.ghi"])), Ok("abc.def.ghi"));
        assert_eq!(
            bearer_token(&request(&[])),
            Err("no `authorization` metadata")
        );
        assert_eq!(
            bearer_token(&request(&["Bearer "])),
            Err("the `authorization` value is empty")
        );
        assert_eq!(
            bearer_token(&request(&["bearer"])),
            Err("the `authorization` value is empty")
        );
        assert_eq!(bearer_token(&request(&["Bearerabc"])), Ok("Bearerabc"));
        assert_eq!(
            bearer_token(&request(&["a", "b"])),
            Err("more than one `authorization` value")
        );
    }
}
