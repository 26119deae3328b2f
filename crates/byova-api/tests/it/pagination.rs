//! `Link: rel="next"` pagination across pages.

use std::pin::pin;

use byova_api::StaticToken;
use byova_api::test_util::matchers::{bearer_token, exact_query, method, path, tracking_id};
use byova_api::test_util::{WebexStandIn, responses};
use byova_models::Webhook;
use futures_util::TryStreamExt as _;
use serde_json::json;
use wiremock::Mock;

/// Mounts three pages of two hooks each: `/webhooks?max=2` → `cursor=p2` → `cursor=p3`.
async fn three_pages(webex: &WebexStandIn, later_pages_expected: u64) {
    let hook = |id: &str| json!({"id": id, "resource": "serviceApp"});
    let p2 = webex.url("/webhooks?max=2&cursor=p2");
    let p3 = webex.url("/webhooks?cursor=p3&max=2");
    Mock::given(method("GET"))
        .and(path("/webhooks"))
        .and(exact_query(&[("max", "2")]))
        .and(bearer_token("t"))
        .and(tracking_id())
        .respond_with(responses::page(vec![hook("wh-1"), hook("wh-2")], Some(&p2)))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(method("GET"))
        .and(path("/webhooks"))
        .and(exact_query(&[("max", "2"), ("cursor", "p2")]))
        .and(bearer_token("t"))
        .and(tracking_id())
        .respond_with(responses::page(vec![hook("wh-3"), hook("wh-4")], Some(&p3)))
        .expect(later_pages_expected)
        .mount(webex.server())
        .await;
    Mock::given(method("GET"))
        .and(path("/webhooks"))
        .and(exact_query(&[("cursor", "p3"), ("max", "2")]))
        .and(bearer_token("t"))
        .and(tracking_id())
        .respond_with(responses::page(vec![hook("wh-5")], None))
        .expect(later_pages_expected)
        .mount(webex.server())
        .await;
}

#[tokio::test]
async fn awaiting_a_list_collects_every_page_in_order() {
    let webex = WebexStandIn::start().await;
    three_pages(&webex, 1).await;
    let hooks = webex.client().webhooks(StaticToken::new("t"));
    let all = hooks.list().max(2).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["wh-1", "wh-2", "wh-3", "wh-4", "wh-5"]);
    webex.verify().await;
}

#[tokio::test]
async fn pages_stream_exposes_next_links() {
    let webex = WebexStandIn::start().await;
    three_pages(&webex, 1).await;
    let pages: Vec<_> = webex
        .client()
        .webhooks(StaticToken::new("t"))
        .list()
        .max(2)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(
        pages[0].next.as_ref().map(url::Url::as_str),
        Some(webex.url("/webhooks?max=2&cursor=p2").as_str())
    );
    assert_eq!(pages[2].next, None);
    assert_eq!(
        pages.iter().map(|p| p.items.len()).collect::<Vec<_>>(),
        [2, 2, 1]
    );
    webex.verify().await;
}

#[tokio::test]
async fn items_are_fetched_lazily() {
    let webex = WebexStandIn::start().await;
    // Only the first page may be requested.
    three_pages(&webex, 0).await;
    let hooks = webex.client().webhooks(StaticToken::new("t"));
    let mut items = pin!(hooks.list().max(2).items());
    let first: Webhook = items.try_next().await.unwrap().unwrap();
    let second: Webhook = items.try_next().await.unwrap().unwrap();
    assert_eq!((first.id.as_str(), second.id.as_str()), ("wh-1", "wh-2"));
    webex.verify().await;
}

#[tokio::test]
async fn first_page_only() {
    let webex = WebexStandIn::start().await;
    three_pages(&webex, 0).await;
    let page = webex
        .client()
        .webhooks(StaticToken::new("t"))
        .list()
        .max(2)
        .first_page()
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert!(page.next.is_some());
    webex.verify().await;
}

#[tokio::test]
async fn a_next_link_to_another_host_does_not_get_the_bearer() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/webhooks"))
        .respond_with(responses::page(
            vec![json!({"id": "wh-1"})],
            Some("https://attacker.example/steal"),
        ))
        .expect(1)
        .mount(webex.server())
        .await;
    let err = webex
        .client()
        .webhooks(StaticToken::new("t"))
        .list()
        .await
        .unwrap_err();
    assert!(err.is_invalid_request(), "{err}");
    webex.verify().await;
}

#[tokio::test]
async fn generic_lists_without_a_bearer() {
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/things"))
        .and(exact_query(&[("max", "1")]))
        .respond_with(responses::page(
            vec![json!(1)],
            Some(&webex.url("/things?page=2")),
        ))
        .expect(1)
        .mount(webex.server())
        .await;
    Mock::given(method("GET"))
        .and(path("/things"))
        .and(exact_query(&[("page", "2")]))
        .respond_with(responses::page(vec![json!(2)], None))
        .expect(1)
        .mount(webex.server())
        .await;
    let all: Vec<u32> = webex.client().list("/things").max(1).await.unwrap();
    assert_eq!(all, [1, 2]);
    webex.verify().await;
}
