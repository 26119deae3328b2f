//! Pagination: [`ListRequest`] follows `Link: <…>; rel="next"` lazily as a [`Stream`].

use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use byova_models::ItemList;
use futures_core::Stream;
use futures_util::{TryStreamExt as _, stream};
use http::HeaderMap;
use http::header::LINK;
use serde::de::DeserializeOwned;
use url::Url;

use crate::client::Client;
use crate::error::Error;
use crate::response::Response;
use crate::token_source::TokenSource;

/// One page of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The next page (`Link: rel="next"`), an opaque URL.
    pub next: Option<Url>,
}

/// A list request: `.await` it for every item of every page, or stream pages or items lazily.
///
/// ```no_run
/// # async fn run(client: byova_api::Client) -> Result<(), byova_api::Error> {
/// use byova_api::StaticToken;
/// use futures_util::TryStreamExt as _;
///
/// let hooks = client.webhooks(StaticToken::new("integration-token"));
/// // All items of all pages, 100 per request:
/// let all = hooks.list().max(100).await?;
/// // Or lazily, stopping early:
/// let mut items = std::pin::pin!(hooks.list().max(100).items());
/// while let Some(hook) = items.try_next().await? {
///     if hook.resource.as_deref() == Some("serviceApp") {
///         break;
///     }
/// }
/// # Ok(()) }
/// ```
#[must_use = "list requests do nothing unless awaited or streamed"]
pub struct ListRequest<T> {
    client: Client,
    target: String,
    auth: Option<Arc<dyn TokenSource>>,
    query: Vec<(String, String)>,
    _items: PhantomData<fn() -> T>,
}

impl<T> ListRequest<T> {
    pub(crate) fn new(client: Client, target: String, auth: Option<Arc<dyn TokenSource>>) -> Self {
        Self {
            client,
            target,
            auth,
            query: Vec::new(),
            _items: PhantomData,
        }
    }

    /// Page size (`max`). Webex silently caps it per endpoint.
    pub fn max(self, max: u32) -> Self {
        self.query("max", max)
    }

    /// Sends a bearer from `source`.
    pub fn bearer(mut self, source: impl TokenSource + 'static) -> Self {
        self.auth = Some(Arc::new(source));
        self
    }

    /// Adds a query parameter to the first request (later pages use the `next` URL as is).
    pub fn query(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.query.push((key.into(), value.to_string()));
        self
    }
}

impl<T: DeserializeOwned + Send + 'static> ListRequest<T> {
    /// The first page only.
    pub async fn first_page(self) -> Result<Page<T>, Error> {
        let mut request = self.client.get(self.target);
        for (key, value) in self.query {
            request = request.query(key, value);
        }
        if let Some(auth) = self.auth {
            request = request.bearer_arc(auth);
        }
        decode_page(&request.send().await?)
    }

    /// Every page, fetched lazily: the next request is sent when the stream is polled past the
    /// previous page. Ends after the page without `rel="next"`, or after the first error.
    pub fn pages(self) -> impl Stream<Item = Result<Page<T>, Error>> + Send + 'static {
        enum State<T> {
            First(ListRequest<T>),
            Next {
                client: Client,
                auth: Option<Arc<dyn TokenSource>>,
                url: Url,
            },
            Done,
        }
        stream::try_unfold(State::First(self), |state| async move {
            let (client, auth, page) = match state {
                State::Done => return Ok(None),
                State::First(request) => {
                    let (client, auth) = (request.client.clone(), request.auth.clone());
                    (client, auth, request.first_page().await?)
                }
                State::Next { client, auth, url } => {
                    let mut request = client.get(url.as_str());
                    if let Some(auth) = &auth {
                        request = request.bearer_arc(Arc::clone(auth));
                    }
                    let page = decode_page(&request.send().await?)?;
                    (client, auth, page)
                }
            };
            let next = match &page.next {
                Some(url) => State::Next {
                    client,
                    auth,
                    url: url.clone(),
                },
                None => State::Done,
            };
            Ok(Some((page, next)))
        })
    }

    /// Every item of every page, fetched lazily.
    pub fn items(self) -> impl Stream<Item = Result<T, Error>> + Send + 'static {
        self.pages()
            .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
            .try_flatten()
    }

    /// Every item of every page.
    pub async fn collect_all(self) -> Result<Vec<T>, Error> {
        self.pages()
            .try_fold(Vec::new(), |mut all, page| async move {
                all.extend(page.items);
                Ok(all)
            })
            .await
    }
}

impl<T: DeserializeOwned + Send + 'static> IntoFuture for ListRequest<T> {
    type Output = Result<Vec<T>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.collect_all())
    }
}

impl<T> fmt::Debug for ListRequest<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListRequest")
            .field("target", &self.target)
            .field("query", &self.query)
            .field("bearer", &self.auth.is_some())
            .finish_non_exhaustive()
    }
}

/// Decodes a list page: `{"items": [...]}` (or a bare array) plus the `next` link.
pub(crate) fn decode_page<T: DeserializeOwned>(response: &Response) -> Result<Page<T>, Error> {
    let bare_array = response.body().iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let items = if bare_array {
        response.json::<Vec<T>>()?
    } else {
        response.json::<ItemList<T>>()?.items
    };
    Ok(Page {
        items,
        next: response.next_link(),
    })
}

/// The `rel="next"` target of the `Link` headers, resolved against `base`.
pub(crate) fn next_link(headers: &HeaderMap, base: &Url) -> Option<Url> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(parse_link_header)
        .find(|(_, rels)| {
            rels.split_ascii_whitespace()
                .any(|rel| rel.eq_ignore_ascii_case("next"))
        })
        .and_then(|(target, _)| base.join(target).ok())
}

/// Splits one `Link` header value (RFC 8288) into `(target, rel)` pairs.
pub(crate) fn parse_link_header(value: &str) -> Vec<(&str, String)> {
    let mut links = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let target = &rest[open + 1..open + close];
        rest = &rest[open + close + 1..];
        // Parameters run until the next link (a comma outside quotes); they are separated by
        // semicolons outside quotes (RFC 8288: quoted values are opaque).
        let (params, end) = split_outside_quotes(rest, ',');
        rest = &rest[end..];
        let rel = split_all_outside_quotes(params, ';')
            .filter_map(|param| param.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("rel"))
            .map(|(_, value)| unquote(value.trim()))
            .unwrap_or_default();
        links.push((target, rel));
    }
    links
}

/// The text of `value` up to the first `separator` outside a quoted string, and that index.
fn split_outside_quotes(value: &str, separator: char) -> (&str, usize) {
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            c if c == separator && !in_quotes => return (&value[..i], i),
            _ => {}
        }
    }
    (value, value.len())
}

/// Every piece of `value` between `separator`s outside quoted strings.
fn split_all_outside_quotes(mut value: &str, separator: char) -> impl Iterator<Item = &str> {
    std::iter::from_fn(move || {
        if value.is_empty() {
            return None;
        }
        let (piece, end) = split_outside_quotes(value, separator);
        value = value.get(end + separator.len_utf8()..).unwrap_or("");
        Some(piece)
    })
}

/// A parameter value without its quotes and quoted-pair escapes.
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return value.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or(c)
        } else {
            c
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://webexapis.com/v1/webhooks?max=2").unwrap()
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(LINK, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn quoted_parameters_are_opaque() {
        let h = headers(&[
            r#"</page-2>; title="x; rel=next"; rel="prev", </page-3>; title="a, b \"c\""; rel="next""#,
        ]);
        assert_eq!(
            next_link(&h, &base()).unwrap().as_str(),
            "https://webexapis.com/page-3"
        );
        assert_eq!(
            parse_link_header(r#"</a>; rel="next last""#),
            vec![("/a", "next last".to_owned())]
        );
    }

    #[test]
    fn finds_next_among_several_links() {
        let h = headers(&[
            r#"<https://webexapis.com/v1/webhooks?max=2&cursor=a,b>; rel="first", <https://webexapis.com/v1/webhooks?max=2&cursor=c>; rel="next""#,
        ]);
        assert_eq!(
            next_link(&h, &base()).unwrap().as_str(),
            "https://webexapis.com/v1/webhooks?max=2&cursor=c"
        );
    }

    #[test]
    fn next_in_a_second_header_unquoted_or_multi_rel() {
        let h = headers(&[
            r#"<https://x/a>; rel="prev""#,
            "</v1/webhooks?cursor=z>; rel=next",
        ]);
        assert_eq!(
            next_link(&h, &base()).unwrap().as_str(),
            "https://webexapis.com/v1/webhooks?cursor=z"
        );
        let h = headers(&[r#"<https://x/b>; title="a, b"; rel="last next""#]);
        assert_eq!(next_link(&h, &base()).unwrap().as_str(), "https://x/b");
    }

    #[test]
    fn no_next() {
        assert_eq!(
            next_link(&headers(&[r#"<https://x/a>; rel="prev""#]), &base()),
            None
        );
        assert_eq!(next_link(&HeaderMap::new(), &base()), None);
        assert_eq!(next_link(&headers(&["garbage"]), &base()), None);
    }
}
