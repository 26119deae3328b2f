//! `from_config` with a file token store: what one process stores, another facade reads.

use byova::models::{IntegrationCredentials, ServiceAppCredentials};
use byova::{Byova, Config, TokenStore};

use crate::support::{Env, INTEGRATION_ID, INTEGRATION_SECRET, SA_ID, SA_SECRET, fresh, org};

#[tokio::test]
async fn a_file_store_is_shared_between_facades() {
    let env = Env::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tokens.json");
    let mut config = Config::new(
        IntegrationCredentials::new(INTEGRATION_ID, INTEGRATION_SECRET),
        ServiceAppCredentials::new(SA_ID, SA_SECRET),
    );
    config.base_url = Some(env.webex.uri());
    config.token_store = TokenStore::File(path.clone());

    let first = Byova::from_config(config.clone()).await.expect("facade");
    assert_eq!(
        first.client().base_url().as_str(),
        format!("{}/", env.webex.uri())
    );
    first
        .storage()
        .set_service_app_tokens(&org(), &fresh("sa-access", "sa-refresh"))
        .await
        .expect("store");
    assert!(path.exists());

    let second = Byova::from_config(config).await.expect("facade");
    assert_eq!(
        second.service_app().registered_orgs().await.expect("orgs"),
        vec![org()]
    );
    assert_eq!(
        second
            .client_for_org(&org())
            .await
            .expect("registered")
            .org(),
        &org()
    );
    env.webex.verify().await;
}

// The Redis client retries connecting with back-off; a paused clock skips the waits.
#[tokio::test(start_paused = true)]
async fn an_unreachable_redis_store_fails_typed() {
    let mut config = Config::new(
        IntegrationCredentials::new(INTEGRATION_ID, INTEGRATION_SECRET),
        ServiceAppCredentials::new(SA_ID, SA_SECRET),
    );
    // Port 1 on loopback: nothing listens there.
    config.token_store = TokenStore::Redis("redis://127.0.0.1:1/0".to_owned());
    let error = Byova::from_config(config).await.expect_err("no redis");
    assert_eq!(error.kind(), &byova::ErrorKind::Auth);
    assert!(error.auth_error().expect("auth").is_storage(), "{error}");
}
