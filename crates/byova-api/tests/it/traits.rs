//! Auto traits other crates rely on (spawning requests, sharing clients and errors).

use byova_api::{
    Client, DataSources, Error, ListRequest, RequestBuilder, Response, StaticToken, TokenSource,
};
use byova_models::DataSource;

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>(_: &T) {}

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<Client>();
    send_sync::<Error>();
    send_sync::<Response>();
    send_sync::<RequestBuilder>();
    send_sync::<DataSources>();
    send_sync::<ListRequest<DataSource>>();
    send_sync::<std::sync::Arc<dyn TokenSource>>();
    assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
}

#[test]
fn resource_futures_are_send() {
    let client = Client::new().unwrap();
    let ds = client.data_sources(StaticToken::new("t"));
    send(&ds.get("x"));
    send(&ds.renew_by_id("x", 60));
    send(&client.get("/x").send());
    send(&client.oauth().refresh("c", &"s".into(), &"r".into()));
}
