//! Key-set fetching over [`byova_api::Client`]: one `GET`, no retries (the key cache has its own
//! cool-down and serves stale keys on failure).

use bytes::Bytes;

use crate::fetch::{BoxFuture, FetchKeySet};

impl FetchKeySet for byova_api::Client {
    fn get<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<http::Response<Bytes>, String>> {
        Box::pin(async move {
            let response = byova_api::Client::get(self, url)
                .retry_policy(byova_api::RetryPolicy::disabled())
                .send_raw()
                .await
                .map_err(|err| err.to_string())?;
            let mut out = http::Response::new(response.body().clone());
            *out.status_mut() = response.status();
            *out.headers_mut() = response.headers().clone();
            Ok(out)
        })
    }
}
