//! A tiny real HTTP client for driving the redirect listener like a browser would.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A finished response: status, content type and body text.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub content_type: String,
    pub headers: http::HeaderMap,
    pub body: String,
}

/// `GET url` over a fresh connection.
pub async fn get(url: &str) -> Page {
    send(http::Method::GET, url).await
}

/// `POST url` with an empty body, over a fresh connection.
pub async fn post(url: &str) -> Page {
    send(http::Method::POST, url).await
}

async fn send(method: http::Method, url: &str) -> Page {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let request = http::Request::builder()
        .method(&method)
        .uri(url)
        .body(Empty::new())
        .expect("request");
    let response = client
        .request(request)
        .await
        .unwrap_or_else(|error| panic!("{method} {url}: {error}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Page {
        status,
        content_type,
        headers,
        body: String::from_utf8(body.to_vec()).expect("utf-8 body"),
    }
}
