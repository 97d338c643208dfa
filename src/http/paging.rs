//! A paged listing as one stream.

use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};

use crate::error::{Error, Result};

/// Empty pages in a row accepted before giving up (services may return a few).
const EMPTY_PAGES: u32 = 100;

/// The items of a paged listing as one stream: `fetch(None)` gives the first page,
/// `fetch(Some(token))` the page a token names; each page comes with the next page's token, if
/// any. A service that hands back the token it was given, or only empty pages, fails the listing
/// instead of looping.
pub fn pages<T, F, Fut>(fetch: F) -> BoxStream<'static, Result<T>>
where
    T: Send + 'static,
    F: Fn(Option<String>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>)>> + Send + 'static,
{
    let stuck = || Error::Provider("Failed to list objects: the listing did not advance".into());
    futures::stream::try_unfold(Some((None, 0)), move |state: Option<(Option<String>, u32)>| {
        let page = state.map(|(token, empty)| (token.clone(), empty, fetch(token)));
        async move {
            let Some((token, empty, page)) = page else { return Ok(None) };
            let (items, next) = page.await?;
            let empty = if items.is_empty() { empty + 1 } else { 0 };
            if next.is_some() && (next == token || empty >= EMPTY_PAGES) {
                return Err(stuck());
            }
            Ok(Some((futures::stream::iter(items.into_iter().map(Ok)), next.map(|t| (Some(t), empty)))))
        }
    })
    .try_flatten()
    .boxed()
}
