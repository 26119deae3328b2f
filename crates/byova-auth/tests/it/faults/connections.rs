//! Connection faults at the token endpoint: resets, cut-off answers, garbage and a stalled
//! answer. Each refresh fails once with a typed error (`Transport`, or `Timeout` for the stall;
//! a refresh is never repeated blindly), the token file is untouched, and the next good answer
//! is stored.

use std::time::Duration;

use byova_api::{Client, ErrorKind as ApiErrorKind, RetryPolicy};
use byova_auth::storage::TokenStorage;
use byova_models::Secret;

use super::raw_server::{Fault, RawServer};
use super::{Store, assert_api_error};
use crate::support::webex::{org, other_org, token_body};

/// Long enough for a loopback answer on a loaded machine; the stalled answer takes this long.
const TIMEOUT: Duration = Duration::from_secs(3);

fn faults() -> Vec<(Fault, ApiErrorKind)> {
    vec![
        (Fault::Reset, ApiErrorKind::Transport),
        (Fault::TruncatedHead, ApiErrorKind::Transport),
        (Fault::TruncatedBody, ApiErrorKind::Transport),
        (Fault::Garbage, ApiErrorKind::Transport),
        (Fault::Stall, ApiErrorKind::Timeout),
    ]
}

fn client(server: &RawServer) -> Client {
    Client::builder()
        .base_url(server.uri())
        .timeout(Some(TIMEOUT))
        .retry_policy(RetryPolicy::default().max_attempts(5))
        .build()
        .expect("client")
}

#[tokio::test]
async fn connection_faults_during_refreshes_keep_every_token() {
    let script: Vec<Fault> = faults().into_iter().map(|(fault, _)| fault).collect();
    let server = RawServer::start(move |path, nth| match (path, script.get(nth - 1)) {
        ("/access_token", Some(fault)) => fault.clone(),
        ("/access_token", None) => Fault::Json(token_body("fresh-access", None).to_string()),
        _ => Fault::Reset,
    })
    .await;
    let store = Store::seeded().await;
    let before = store.snapshot();
    let (integration, service_apps) = store.managers(client(&server));

    let kinds: Vec<ApiErrorKind> = faults().into_iter().map(|(_, kind)| kind).collect();
    for (n, kind) in kinds.iter().enumerate() {
        // Alternate between the Integration's refresh and the org's.
        let error = if n % 2 == 0 {
            integration
                .access_token()
                .await
                .expect_err("the refresh fails")
        } else {
            service_apps
                .access_token(&org())
                .await
                .expect_err("the refresh fails")
        };
        assert_api_error(
            &error,
            *kind,
            &["int-refresh", "sa-refresh", "int-old", "sa-old"],
        );
        assert_eq!(
            server.requests_to("/access_token"),
            n + 1,
            "sent once, not repeated"
        );
        assert_eq!(store.snapshot(), before, "{kind:?}: the token file changed");
    }

    // The endpoint answers again.
    assert_eq!(
        integration
            .access_token()
            .await
            .expect("refreshed")
            .expose(),
        "fresh-access"
    );
    assert_eq!(
        service_apps
            .access_token(&org())
            .await
            .expect("refreshed")
            .expose(),
        "fresh-access"
    );
    let after = store.snapshot();
    assert_eq!(
        after["serviceApps"][other_org().to_string()],
        before["serviceApps"][other_org().to_string()]
    );
    let reopened = store.reopen();
    for (tokens, refresh_token) in [
        (
            reopened.integration_tokens().await.expect("read"),
            "int-refresh",
        ),
        (
            reopened.service_app_tokens(&org()).await.expect("read"),
            "sa-refresh",
        ),
    ] {
        let tokens = tokens.expect("stored");
        assert_eq!(tokens.access_token.expose(), "fresh-access");
        // The answers carried no refresh token: the stored ones were kept.
        assert_eq!(
            tokens.refresh_token.as_ref().map(Secret::expose),
            Some(refresh_token)
        );
    }
    assert_eq!(server.requests_to("/access_token"), kinds.len() + 2);
}
