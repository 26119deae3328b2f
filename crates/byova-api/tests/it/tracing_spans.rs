//! Every attempt runs in a `webex_request` span carrying method, path, TrackingID and status.

use std::sync::{Arc, Mutex};

use byova_api::test_util::matchers::{method, path};
use byova_api::test_util::{WebexStandIn, responses};
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::{Layer, Registry};
use wiremock::Mock;

type Fields = Vec<(String, String)>;

/// Collects the fields of `webex_request` spans, in creation order.
#[derive(Clone, Default)]
struct SpanFields(Arc<Mutex<Vec<(Id, Fields)>>>);

struct Collect<'a>(&'a mut Fields);

impl Visit for Collect<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl<S: tracing::Subscriber> Layer<S> for SpanFields {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        if attrs.metadata().name() == "webex_request" {
            let mut fields = Vec::new();
            attrs.record(&mut Collect(&mut fields));
            self.0.lock().unwrap().push((id.clone(), fields));
        }
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut spans = self.0.lock().unwrap();
        if let Some((_, fields)) = spans.iter_mut().find(|(span, _)| span == id) {
            values.record(&mut Collect(fields));
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn attempts_are_recorded_in_spans() {
    let spans = SpanFields::default();
    let _guard = tracing::subscriber::set_default(Registry::default().with(spans.clone()));
    let webex = WebexStandIn::start().await;
    Mock::given(method("GET"))
        .and(path("/traced"))
        .respond_with(responses::json(json!({})))
        .expect(1)
        .mount(webex.server())
        .await;
    webex.client().get("/traced").send().await.unwrap();
    let sent = webex.server().received_requests().await.unwrap()[0].headers["trackingid"]
        .to_str()
        .unwrap()
        .to_owned();

    let spans = spans.0.lock().unwrap();
    assert_eq!(spans.len(), 1);
    let fields = &spans[0].1;
    let get = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("method"), Some("GET"));
    assert_eq!(get("path"), Some("/traced"));
    assert_eq!(get("tracking_id"), Some(sent.as_str()));
    assert_eq!(get("attempt"), Some("1"));
    assert_eq!(get("status"), Some("200"));
}
