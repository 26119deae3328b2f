//! Service App tokens per org: mint, refresh, registration, the OrgClient and its 401 path.

use std::sync::Arc;
use std::time::Duration;

use byova_api::TokenSource;
use byova_api::test_util::matchers as m;
use byova_api::test_util::responses;
use byova_api::test_util::wiremock::Mock;
use byova_auth::storage::{RedisTokenStorage, TokenStorage};
use byova_auth::{ErrorKind, RefreshSettings};
use byova_models::{OAuthTokens, Secret};
use serde_json::json;
use time::OffsetDateTime;

use crate::support::redis_server::RedisServer;
use crate::support::webex::{
    APPLICATION_ID, Env, INTEGRATION_ID, INTEGRATION_SECRET, ORG, SA_ID, SA_SECRET, expired, fresh,
    managers, org, refresh_form, token_body,
};

fn mint() -> byova_api::test_util::wiremock::MockBuilder {
    Mock::given(m::method("POST"))
        .and(m::path(format!("/applications/{APPLICATION_ID}/token")))
        .and(m::json_content())
        .and(m::tracking_id())
        .and(m::body_json(json!({
            "clientId": SA_ID,
            "clientSecret": SA_SECRET,
            "targetOrgId": ORG,
        })))
}

fn sa_refresh(refresh: &str) -> byova_api::test_util::wiremock::MockBuilder {
    Mock::given(m::method("POST"))
        .and(m::path("/access_token"))
        .and(m::form_content())
        .and(m::no_header("authorization"))
        .and(m::body_string(refresh_form(refresh, SA_ID, SA_SECRET)))
}

#[tokio::test]
async fn minting_uses_the_integration_bearer_and_stores_the_org() {
    let env = Env::start().await;
    env.authorize_integration().await;
    mint()
        .and(m::bearer_token("int-access"))
        .respond_with(responses::json(token_body("sa-access", Some("sa-refresh"))))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let tokens = env
        .service_apps
        .fetch_token_for_org(&org())
        .await
        .expect("mint");
    assert_eq!(tokens.access_token.expose(), "sa-access");
    assert_eq!(
        env.storage.service_app_tokens(&org()).await.expect("read"),
        Some(tokens)
    );
    assert_eq!(
        env.service_apps.registered_orgs().await.expect("orgs"),
        vec![org()]
    );
    // Cached: no second request.
    assert_eq!(
        env.service_apps
            .access_token(&org())
            .await
            .expect("token")
            .expose(),
        "sa-access"
    );
    env.webex.verify().await;
}

#[tokio::test]
async fn an_expired_integration_token_is_refreshed_before_minting() {
    let env = Env::start().await;
    env.storage
        .set_integration_tokens(&expired("int-old", "int-refresh"))
        .await
        .expect("store");
    Mock::given(m::method("POST"))
        .and(m::path("/access_token"))
        .and(m::body_string(refresh_form(
            "int-refresh",
            INTEGRATION_ID,
            INTEGRATION_SECRET,
        )))
        .respond_with(responses::json(token_body("int-new", None)))
        .expect(1)
        .mount(env.webex.server())
        .await;
    mint()
        .and(m::bearer_token("int-new"))
        .respond_with(responses::json(token_body("sa-access", Some("sa-refresh"))))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let tokens = env
        .service_apps
        .fetch_token_for_org(&org())
        .await
        .expect("mint");
    assert_eq!(tokens.access_token.expose(), "sa-access");
    // The Integration's refreshed token was stored on the way.
    assert_eq!(
        env.storage
            .integration_tokens()
            .await
            .expect("read")
            .map(|t| t.access_token.expose().to_owned())
            .as_deref(),
        Some("int-new")
    );
    env.webex.verify().await;
}

#[tokio::test]
async fn minting_without_an_authorized_integration_says_so() {
    let env = Env::start().await;
    let error = env
        .service_apps
        .fetch_token_for_org(&org())
        .await
        .expect_err("no integration");
    assert!(error.is_not_authorized(), "{error:?}");
    assert_eq!(env.storage.registered_orgs().await.expect("orgs"), vec![]);
}

#[tokio::test]
async fn refresh_uses_the_service_app_credentials_and_keeps_the_refresh_token() {
    let env = Env::start().await;
    env.storage
        .set_service_app_tokens(&org(), &expired("sa-old", "sa-refresh"))
        .await
        .expect("store");
    sa_refresh("sa-refresh")
        .respond_with(responses::json(token_body("sa-new", None)))
        .expect(1)
        .mount(env.webex.server())
        .await;
    assert_eq!(
        env.service_apps
            .access_token(&org())
            .await
            .expect("token")
            .expose(),
        "sa-new"
    );
    let stored = env
        .storage
        .service_app_tokens(&org())
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(
        stored.refresh_token.as_ref().map(Secret::expose),
        Some("sa-refresh")
    );
    env.webex.verify().await;
}

#[tokio::test]
async fn an_unknown_org_is_an_error_and_is_never_registered_silently() {
    let env = Env::start().await;
    env.authorize_integration().await;
    let error = env
        .service_apps
        .access_token(&org())
        .await
        .expect_err("unknown org");
    assert_eq!(
        error.kind(),
        &ErrorKind::OrgNotRegistered { org_id: ORG.into() }
    );
    assert!(error.to_string().contains("save_registration"));
    // Through the OrgClient, the same error comes back as the API error's source.
    let error = env
        .service_apps
        .org_client(&org())
        .data_sources()
        .list()
        .await
        .expect_err("unknown org");
    assert!(error.is_token_source());
    let ours = error
        .into_source()
        .expect("source")
        .downcast::<byova_auth::Error>()
        .expect("our error");
    assert!(ours.is_org_not_registered());
    assert_eq!(env.storage.registered_orgs().await.expect("orgs"), vec![]);
    env.webex.verify().await;
}

#[tokio::test]
async fn a_dead_service_app_refresh_token_falls_back_to_minting() {
    let env = Env::start().await;
    env.authorize_integration().await;
    let dead = OAuthTokens::new(
        "sa-old",
        3600,
        OffsetDateTime::now_utc() - Duration::from_secs(100 * 86_400),
    )
    .with_refresh_token("sa-dead", Some(90 * 86_400));
    env.storage
        .set_service_app_tokens(&org(), &dead)
        .await
        .expect("store");
    mint()
        .and(m::bearer_token("int-access"))
        .respond_with(responses::json(token_body(
            "sa-minted",
            Some("sa-refresh-2"),
        )))
        .expect(1)
        .mount(env.webex.server())
        .await;
    assert_eq!(
        env.service_apps
            .access_token(&org())
            .await
            .expect("token")
            .expose(),
        "sa-minted"
    );
    env.webex.verify().await;

    // Rejected by Webex (400): mint as well.
    let env = Env::start().await;
    env.authorize_integration().await;
    env.storage
        .set_service_app_tokens(&org(), &expired("sa-old", "sa-revoked"))
        .await
        .expect("store");
    sa_refresh("sa-revoked")
        .respond_with(responses::error(400, "invalid_grant", "ROUTER_X"))
        .expect(1)
        .mount(env.webex.server())
        .await;
    mint()
        .respond_with(responses::json(token_body(
            "sa-minted",
            Some("sa-refresh-2"),
        )))
        .expect(1)
        .mount(env.webex.server())
        .await;
    assert_eq!(
        env.service_apps
            .access_token(&org())
            .await
            .expect("token")
            .expose(),
        "sa-minted"
    );
    assert_eq!(
        env.storage
            .service_app_tokens(&org())
            .await
            .expect("read")
            .expect("stored")
            .refresh_token,
        Some(Secret::new("sa-refresh-2"))
    );
    env.webex.verify().await;
}

#[tokio::test]
async fn save_registration_refreshes_then_stores_and_stores_nothing_on_failure() {
    let env = Env::start().await;
    sa_refresh("sandbox-refresh")
        .respond_with(responses::json(token_body("sandbox-access", None)))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let tokens = env
        .service_apps
        .save_registration(&org(), "sandbox-refresh")
        .await
        .expect("register");
    assert_eq!(tokens.access_token.expose(), "sandbox-access");
    assert_eq!(
        tokens.refresh_token.as_ref().map(Secret::expose),
        Some("sandbox-refresh")
    );
    assert_eq!(
        env.storage.service_app_tokens(&org()).await.expect("read"),
        Some(tokens)
    );
    env.webex.verify().await;

    let env = Env::start().await;
    sa_refresh("bad-refresh")
        .respond_with(responses::error(400, "invalid_grant", "ROUTER_Y"))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let error = env
        .service_apps
        .save_registration(&org(), "bad-refresh")
        .await
        .expect_err("rejected");
    assert!(error.is_reauthorization_required());
    assert_eq!(env.storage.registered_orgs().await.expect("orgs"), vec![]);
    env.webex.verify().await;
}

#[tokio::test]
async fn org_client_retries_once_with_a_refreshed_token_after_a_401() {
    let env = Env::start().await;
    env.storage
        .set_service_app_tokens(&org(), &fresh("sa-revoked", "sa-refresh"))
        .await
        .expect("store");
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/"))
        .and(m::bearer_token("sa-revoked"))
        .respond_with(responses::error(401, "token revoked", "ROUTER_401"))
        .expect(1)
        .mount(env.webex.server())
        .await;
    sa_refresh("sa-refresh")
        .respond_with(responses::json(token_body("sa-fresh", None)))
        .expect(1)
        .mount(env.webex.server())
        .await;
    Mock::given(m::method("GET"))
        .and(m::path("/dataSources/"))
        .and(m::bearer_token("sa-fresh"))
        .respond_with(responses::page(vec![json!({"id": "ds-1"})], None))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let client = env.service_apps.org_client(&org());
    assert_eq!(client.org(), &org());
    let items = client.data_sources().list().await.expect("list");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].id, "ds-1");
    env.webex.verify().await;
}

#[tokio::test]
async fn token_source_refresh_returns_a_newer_token_without_refreshing_again() {
    let env = Env::start().await;
    env.storage
        .set_service_app_tokens(&org(), &fresh("current", "r"))
        .await
        .expect("store");
    let source = env.service_apps.token_source(&org());
    assert_eq!(source.token().await.expect("token").expose(), "current");
    // Someone else's request was rejected with an older token: no refresh needed.
    let newer = source
        .refresh(&Secret::new("older"))
        .await
        .expect("refresh");
    assert_eq!(newer.map(Secret::into_inner).as_deref(), Some("current"));
    env.webex.verify().await;
}

#[tokio::test]
async fn schemas_use_the_org_bearer() {
    let env = Env::start().await;
    env.storage
        .set_service_app_tokens(&org(), &fresh("sa-access", "r"))
        .await
        .expect("store");
    Mock::given(m::method("GET"))
        .and(m::path(
            "/dataSources/schemas/5397013b-7920-4ffc-807c-e8a3e0a18f43",
        ))
        .and(m::bearer_token("sa-access"))
        .respond_with(responses::json(
            json!({"id": "5397013b-7920-4ffc-807c-e8a3e0a18f43"}),
        ))
        .expect(1)
        .mount(env.webex.server())
        .await;
    let schema = env
        .service_apps
        .org_client(&org())
        .schemas()
        .get("5397013b-7920-4ffc-807c-e8a3e0a18f43")
        .await
        .expect("schema");
    assert_eq!(schema.id, "5397013b-7920-4ffc-807c-e8a3e0a18f43");
    env.webex.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_sharing_redis_refresh_an_org_once() {
    let redis = RedisServer::start();
    let env = Env::start().await;
    let shared: Arc<dyn TokenStorage> = Arc::new(
        RedisTokenStorage::connect(&redis.url())
            .await
            .expect("redis")
            .with_prefix("it:replicas:"),
    );
    shared
        .set_service_app_tokens(&org(), &expired("sa-old", "sa-refresh"))
        .await
        .expect("store");
    sa_refresh("sa-refresh")
        .respond_with(
            byova_api::test_util::wiremock::ResponseTemplate::new(200)
                .set_body_json(token_body("sa-new", None))
                .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(env.webex.server())
        .await;
    // Two independent managers (two replicas: separate caches and single flights), one store.
    let settings = RefreshSettings::default();
    let (_, replica_a) = managers(env.webex.client(), shared.clone(), settings);
    let (_, replica_b) = managers(env.webex.client(), shared.clone(), settings);
    let (a, b) = tokio::join!(
        tokio::spawn(async move { replica_a.access_token(&org()).await }),
        tokio::spawn(async move { replica_b.access_token(&org()).await }),
    );
    assert_eq!(a.expect("join").expect("a").expose(), "sa-new");
    assert_eq!(b.expect("join").expect("b").expose(), "sa-new");
    // The lock was released.
    assert!(
        shared
            .try_lock(&format!("service-app:{ORG}"), Duration::from_secs(1))
            .await
            .expect("lock")
            .is_some()
    );
    env.webex.verify().await;
}

#[tokio::test]
async fn a_deauthorized_org_stays_forgotten_even_with_a_refresh_in_flight() {
    let env = Env::start().await;
    env.storage
        .set_service_app_tokens(&org(), &expired("sa-old", "sa-refresh"))
        .await
        .expect("store");
    let (gated, release) =
        crate::support::webex::Gated::new(responses::json(token_body("sa-new", None)));
    sa_refresh("sa-refresh")
        .respond_with(gated)
        .expect(1)
        .mount(env.webex.server())
        .await;

    let service_apps = env.service_apps.clone();
    let refresh = tokio::spawn(async move { service_apps.access_token(&org()).await });
    // Wait until the refresh holds the org's lock (it is then blocked on the gated answer).
    let lock_name = format!("service-app:{ORG}");
    loop {
        match env
            .storage
            .try_lock(&lock_name, Duration::from_secs(30))
            .await
            .expect("lock")
        {
            None => break,
            Some(token) => env.storage.unlock(&lock_name, token).await.expect("unlock"),
        }
        tokio::task::yield_now().await;
    }
    let service_apps = env.service_apps.clone();
    let remove = tokio::spawn(async move { service_apps.remove_org(&org()).await });
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    // The removal waits for the refresh instead of deleting under its feet ...
    assert!(
        env.storage
            .service_app_tokens(&org())
            .await
            .expect("read")
            .is_some()
    );
    release.send(()).expect("release");
    assert_eq!(
        refresh.await.expect("join").expect("token").expose(),
        "sa-new"
    );
    assert!(remove.await.expect("join").expect("removed"));
    // ... so the refreshed tokens do not bring the org back.
    assert_eq!(
        env.storage.service_app_tokens(&org()).await.expect("read"),
        None
    );
    assert!(
        env.service_apps
            .access_token(&org())
            .await
            .expect_err("gone")
            .is_org_not_registered()
    );
    env.webex.verify().await;
}
