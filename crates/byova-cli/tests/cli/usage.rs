//! Exit status 2 for usage errors (clap's and ours), 0 for help; nothing is sent.

use byova::api::test_util::WebexStandIn;

use crate::support::{ORG, Store, TOKEN, byova, byova_at};

#[tokio::test]
async fn help_and_version_exit_0() {
    let help = byova().args(["--help"]).run().await;
    help.assert_success();
    assert!(
        help.stdout.contains("Usage: byova [OPTIONS] <COMMAND>"),
        "{help:?}"
    );
    for command in [
        "auth",
        "datasources",
        "schemas",
        "webhooks",
        "jws",
        "keeper",
    ] {
        assert!(
            help.stdout.contains(&format!("\n  {command} ")),
            "{command}: {help:?}"
        );
    }
    let version = byova().args(["--version"]).run().await;
    version.assert_success();
    assert_eq!(
        version.stdout,
        format!("byova {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test]
async fn clap_usage_errors_exit_2() {
    for args in [
        vec![],
        vec!["frobnicate"],
        vec!["datasources", "get"],
        vec!["datasources", "create", "--token", TOKEN],
        vec![
            "datasources",
            "create",
            "--url",
            "https://x",
            "--token-lifetime-minutes",
            "0",
        ],
        vec![
            "datasources",
            "renew",
            "ds-1",
            "--token-lifetime-minutes",
            "1441",
        ],
        vec!["datasources", "update", "ds-1", "--status", "paused"],
        vec!["--org", "not-an-org", "datasources", "list"],
        vec!["--token-store", "sqlite:tokens.db", "auth", "status"],
        vec!["jws", "verify", "eyJ"],
        vec![
            "keeper",
            "--datasource-url",
            "https://x",
            "--renewal-lead",
            "soon",
        ],
    ] {
        let outcome = byova().args(&args).run().await;
        outcome.assert_usage();
        assert!(!outcome.stderr.is_empty(), "{args:?}");
    }
}

#[tokio::test]
async fn data_source_commands_need_an_org_or_a_token() {
    let webex = WebexStandIn::start().await;
    let outcome = byova_at(&webex).args(["datasources", "list"]).run().await;
    outcome.assert_usage();
    assert!(
        outcome.stderr.starts_with(
            "error: this command uses the Service App token of an org: pass --org ORG"
        ),
        "{outcome:?}"
    );
    webex.verify().await;
}

#[tokio::test]
async fn missing_credentials_are_listed_and_nothing_is_sent() {
    let webex = WebexStandIn::start().await;
    let store = Store::new();
    let outcome = byova_at(&webex)
        .store(&store)
        .env("WEBEX_SA_CLIENT_ID", "sa-id")
        .args(["--org", ORG, "datasources", "list"])
        .run()
        .await;
    outcome.assert_usage();
    assert!(
        outcome.stderr.starts_with(
            "error: missing environment variables: WEBEX_INTEGRATION_CLIENT_ID, \
             WEBEX_INTEGRATION_CLIENT_SECRET, WEBEX_SA_CLIENT_SECRET\n"
        ),
        "{outcome:?}"
    );
    webex.verify().await;
}

#[tokio::test]
async fn usage_errors_as_json_with_json() {
    let outcome = byova()
        .args(["--json", "datasources", "update", "ds-1", "--token", TOKEN])
        .run()
        .await;
    outcome.assert_usage();
    let error = outcome.error_json();
    assert_eq!(error["error"]["kind"], "usage");
    assert!(
        error["error"]["message"]
            .as_str()
            .expect("message")
            .starts_with("nothing to update"),
        "{error}"
    );
}

#[tokio::test]
async fn the_keeper_refuses_a_static_token() {
    let outcome = byova()
        .args([
            "keeper",
            "--datasource-url",
            "https://va.example.com",
            "--token",
            TOKEN,
        ])
        .run()
        .await;
    outcome.assert_usage();
    assert!(
        outcome.stderr.contains("refreshable Service App tokens"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_bad_base_url_is_a_usage_error() {
    let outcome = byova()
        .env("WEBEX_BASE_URL", "ftp://example.com")
        .args(["schemas", "list", "--token", TOKEN])
        .run()
        .await;
    outcome.assert_usage();
    assert!(outcome.stderr.contains("base URL"), "{outcome:?}");
}
