//! `media_server`: authenticated with the facade's verifier when a data-source URL is set.

use byova::media::{AgentConfig, Reply, agent_fn};

use crate::support::Env;

fn agent() -> AgentConfig {
    AgentConfig::new("echo", agent_fn(|_, _| async { Ok(Reply::say("Hello")) }))
}

#[tokio::test]
async fn the_builder_carries_the_verifier_when_configured() {
    let env = Env::start().await;
    let with_url = env
        .builder()
        .datasource_url("https://va.example.com/byova")
        .build()
        .expect("facade");
    with_url
        .media_server()
        .agent(agent())
        .build()
        .expect("JWS authentication is configured");

    // Without a data-source URL nothing authenticates calls, so the server must be told.
    let without = env.byova();
    let error = without
        .media_server()
        .agent(agent())
        .build()
        .expect_err("no auth chosen");
    assert!(
        error.to_string().contains("disable_authentication"),
        "{error}"
    );
    without
        .media_server()
        .disable_authentication()
        .agent(agent())
        .build()
        .expect("explicitly unauthenticated");
}
