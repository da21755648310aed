//! Listing every page of a collection, in each provider's scheme, at the largest page size:
//! Vultr cursors, DigitalOcean `page`/`per_page`, the numbered pages of Linode (`page_size`) and
//! Cloudflare (`per_page` with `result_info`) in `paginate/numbered.rs`, and the `pagination.next`
//! chains of Vercel (a millisecond `until` cursor, or a `from` continuation).
//!
//! A listing is complete or an error, never a partial list presented as complete (design §6.2:
//! a partial listing would mark resources missing and plan creates). So a repeated cursor, more
//! pages than announced, an empty page before the end, or a total that changes between pages is a
//! transient error, and nothing is returned. Page-numbered schemes fetch pages 2..N concurrently
//! (bounded, through the dock's rate limiter) and reassemble them in page order. Each page's items
//! are mapped (decoded into records) as the page arrives, while the next request is in flight.

use std::collections::HashSet;

use futures::{StreamExt, TryStreamExt};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

mod numbered;
mod page;

use numbered::{PAGE_COUNT, RESULT_INFO_PAGES};
pub(crate) use page::page_items;
use page::parse_page;

use super::Pagination;
use super::dock::{DockClient, malformed, route_key};
use crate::{ErrorClass, ProviderError};

/// No listing is this long; a cursor chain that is, is a loop the other checks missed.
const MAX_PAGES: u64 = 10_000;

/// Extra filters and headers for a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Query filters added to every page request (DO `tag_name`, `type`; Vultr `tag`, `label`).
    pub query: Vec<(String, String)>,
    /// Headers added to every page request (Linode `X-Filter`).
    pub headers: Vec<(String, String)>,
    /// The real path when the route template has parameters
    /// (`/object-storage/buckets/{region}` → `/object-storage/buckets/us-east-1`).
    pub path: Option<String>,
    /// A smaller page than the provider's maximum (tests, the benchmark).
    pub page_size: Option<u32>,
    /// The collection is not paginated: one response holds every item (Vultr `/databases`,
    /// whose operation declares no `per_page` or `cursor`). No paging parameter is sent.
    pub whole: bool,
    /// A scheme other than the provider's declared one, for a collection that pages its own way
    /// (Vercel projects: the `from` continuation where the provider's other lists use `until`).
    pub scheme: Option<Pagination>,
}

impl ListOptions {
    pub fn new() -> ListOptions {
        ListOptions::default()
    }

    #[must_use]
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> ListOptions {
        self.query.push((name.into(), value.into()));
        self
    }

    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> ListOptions {
        self.headers.push((name.into(), value.into()));
        self
    }

    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> ListOptions {
        self.path = Some(path.into());
        self
    }

    /// One response holds the whole collection (see [`ListOptions::whole`]).
    #[must_use]
    pub fn whole(mut self) -> ListOptions {
        self.whole = true;
        self
    }

    /// Pages with `scheme` instead of the provider's declared scheme.
    #[must_use]
    pub fn scheme(mut self, scheme: Pagination) -> ListOptions {
        self.scheme = Some(scheme);
        self
    }

    #[must_use]
    pub fn page_size(mut self, size: u32) -> ListOptions {
        self.page_size = Some(size);
        self
    }
}

/// One listed item: the JSON text of one object of a page, parsed by the adapter's mapping.
pub type Item = Box<RawValue>;

/// The shape of a page-numbered listing, from its first page.
#[derive(Debug, Clone, Copy)]
struct Rest {
    /// Items announced.
    total: u64,
    /// Items on every page but the last.
    size: u64,
    /// Pages announced.
    pages: u64,
}

/// One decoded page: its items as text, and the rest of the envelope (`meta`, `links`, `pages`,
/// …) parsed, with `null` where the items were.
struct Page {
    items: Vec<Item>,
    body: Value,
}

/// Where a cursor scheme's page says what comes next (JSON pointers into the page).
struct CursorAt {
    /// The next page's cursor; empty or absent on the last page.
    next: &'static str,
    /// The number of items announced, if the scheme announces one.
    total: Option<&'static str>,
}

/// Vultr: `meta.links.next` and `meta.total`.
const META_LINKS: CursorAt = CursorAt {
    next: "/meta/links/next",
    total: Some("/meta/total"),
};

/// Cloudflare R2: `result_info.cursor`, no total.
const RESULT_INFO: CursorAt = CursorAt {
    next: "/result_info/cursor",
    total: None,
};

/// Turns one listed item into what the listing returns (a record, a wire struct, the item
/// itself). Applied to each page as it arrives, while the next page is in flight.
pub type MapItem<'m, R> = &'m (dyn Fn(Item) -> Result<R, ProviderError> + Sync);

/// The collection a listing reads: its route template (`/instances`), the array's key in the
/// envelope (`instances`; `data` for Linode), the extra filters and headers, and what each item
/// becomes.
struct Collection<'a, R> {
    route: &'a str,
    list_key: &'a str,
    options: &'a ListOptions,
    map: MapItem<'a, R>,
}

// Not derived: a derive would ask `R: Clone`, and only references are copied.
impl<R> Clone for Collection<'_, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for Collection<'_, R> {}

/// Maps one page's items, stopping at the first failure.
fn map_page<R>(items: Vec<Item>, map: MapItem<'_, R>) -> Result<Vec<R>, ProviderError> {
    items.into_iter().map(map).collect()
}

impl DockClient {
    /// Every item of a collection, decoded as `T`, in the provider's order.
    ///
    /// `route` is the path template (`/instances`), `list_key` the array's key in the envelope
    /// (`instances`, `droplets`; `data` for Linode). The scheme is the provider's declared one.
    pub async fn list<T: DeserializeOwned>(
        &self,
        route: &str,
        list_key: &str,
        options: &ListOptions,
    ) -> Result<Vec<T>, ProviderError> {
        let key = route_key(&Method::GET, route);
        self.list_mapped(route, list_key, options, &|item| {
            self.decode_item(&key, &item)
        })
        .await
    }

    /// Every item of a collection as its JSON text (for `fullApiData`; redact before storing).
    pub async fn list_values(
        &self,
        route: &str,
        list_key: &str,
        options: &ListOptions,
    ) -> Result<Vec<Item>, ProviderError> {
        self.list_mapped(route, list_key, options, &Ok).await
    }

    /// Every item of a collection passed through `map`, in the provider's order.
    ///
    /// Each page is mapped as soon as it has arrived: after a cursor page, while the request for
    /// the next one is in flight; after a numbered page, while the other pages are. So decoding
    /// a listing costs its wall time only the last page's share, and a page's item texts are
    /// freed before the listing ends. A listing is still complete or an error: the first
    /// failure of a request, a check or `map` fails it, and nothing is returned.
    pub async fn list_mapped<R>(
        &self,
        route: &str,
        list_key: &str,
        options: &ListOptions,
        map: MapItem<'_, R>,
    ) -> Result<Vec<R>, ProviderError> {
        let c = Collection {
            route,
            list_key,
            options,
            map,
        };
        if options.whole {
            return self.list_whole(c).await;
        }
        let scheme = options
            .scheme
            .unwrap_or_else(|| self.declaration().pagination_of(route));
        match scheme {
            Pagination::Cursor { max } => self.list_cursor(c, max, &META_LINKS).await,
            Pagination::PageLinks { max } => self.list_page_links(c, max).await,
            Pagination::PageCount { max } => self.list_numbered(c, max, &PAGE_COUNT).await,
            Pagination::Until { max } => self.list_next_chain(c, max, "until").await,
            Pagination::Continuation { max } => self.list_next_chain(c, max, "from").await,
            Pagination::ResultInfo { max } => self.list_numbered(c, max, &RESULT_INFO_PAGES).await,
            Pagination::ResultInfoCursor { max } => self.list_cursor(c, max, &RESULT_INFO).await,
        }
    }

    /// A collection served whole in one response. A total announced above the items served
    /// (`meta.total`, Cloudflare's `result_info.total_count`) is an incomplete listing, as for the
    /// paginated schemes.
    async fn list_whole<R>(&self, c: Collection<'_, R>) -> Result<Vec<R>, ProviderError> {
        let p = self.fetch_page(c, Vec::new()).await?;
        let total = ["/meta/total", "/result_info/total_count"]
            .iter()
            .find_map(|at| p.body.pointer(at).and_then(Value::as_u64));
        let listed = p.items.len() as u64;
        if let Some(t) = total.filter(|t| listed < *t) {
            return Err(self.incomplete(c.route, format!("{listed} items listed, {t} announced")));
        }
        map_page(p.items, c.map)
    }

    /// `per_page` + `cursor`, the next cursor and the total where `at` says: Vultr's
    /// `meta.links.next` is `""` on the last page ([govultr]); Cloudflare R2's
    /// `result_info.cursor` is empty or absent there.
    async fn list_cursor<R>(
        &self,
        c: Collection<'_, R>,
        max: u32,
        at: &CursorAt,
    ) -> Result<Vec<R>, ProviderError> {
        let (route, map) = (c.route, c.map);
        let per_page = page_size(c.options, max);
        let query = |cursor: Option<&str>| {
            let mut query = vec![("per_page".to_owned(), per_page.to_string())];
            if let Some(c) = cursor {
                query.push(("cursor".to_owned(), c.to_owned()));
            }
            query
        };
        let mut out = Vec::new();
        let mut listed = 0u64;
        let mut seen = HashSet::new();
        let mut total: Option<u64> = None;
        let mut p = self.fetch_page(c, query(None)).await?;
        for page in 1u64.. {
            if page == 1 {
                total = at
                    .total
                    .and_then(|path| p.body.pointer(path))
                    .and_then(Value::as_u64);
            }
            let next = p
                .body
                .pointer(at.next)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if p.items.is_empty() && !next.is_empty() {
                return Err(self.incomplete(
                    route,
                    format!("page {page} is empty but links to a next page"),
                ));
            }
            listed += p.items.len() as u64;
            if next.is_empty() {
                // Fewer items than page 1 announced (an empty last page, a page cut short) is an
                // incomplete listing: accepting it would mark the unlisted resources missing.
                // More is fine: resources created while the cursor walked.
                if let Some(t) = total.filter(|t| listed < *t) {
                    return Err(
                        self.incomplete(route, format!("{listed} items listed, {t} announced"))
                    );
                }
                out.extend(map_page(p.items, map)?);
                return Ok(out);
            }
            let too_many_items = total.is_some_and(|t| listed > t + u64::from(per_page));
            let too_many_pages = total.map_or(MAX_PAGES, |t| t.div_ceil(u64::from(per_page)) + 1);
            if !seen.insert(next.clone()) || too_many_items || page >= too_many_pages.min(MAX_PAGES)
            {
                return Err(self.pagination_loop(route, page + 1));
            }
            // The next request goes out first; this page is mapped while it is in flight.
            let items = std::mem::take(&mut p.items);
            let next_page = self.fetch_page(c, query(Some(&next)));
            let (fetched, mapped) = futures::join!(next_page, async { map_page(items, map) });
            p = fetched?;
            out.extend(mapped?);
        }
        Err(self.pagination_loop(route, MAX_PAGES))
    }

    /// Vercel: `limit` + the previous page's `pagination.next` sent back as `cursor_param`
    /// (`until`: a millisecond timestamp; `from`: a number or a string token) ([vercel-sdk]
    /// `Pagination`, `GetProjectsRequest.from`). `next` of `null` (or no `pagination` at all: a
    /// list answered whole, such as Vercel's `{records}`) ends the list. A cursor seen before is a
    /// loop; an empty page that names a next one is an incomplete listing. An answer with no list
    /// at all (getRecords' third form, a plain string) holds nothing to read: it fails the
    /// listing, which is never taken for an empty one.
    async fn list_next_chain<R>(
        &self,
        c: Collection<'_, R>,
        max: u32,
        cursor_param: &str,
    ) -> Result<Vec<R>, ProviderError> {
        let (route, map) = (c.route, c.map);
        let limit = page_size(c.options, max);
        let query = |cursor: Option<&str>| {
            let mut query = vec![("limit".to_owned(), limit.to_string())];
            if let Some(c) = cursor {
                query.push((cursor_param.to_owned(), c.to_owned()));
            }
            query
        };
        let next_of = |body: &Value| -> Result<Option<String>, ProviderError> {
            match body.get("pagination").and_then(|p| p.get("next")) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
                Some(other) => Err(self.incomplete(
                    route,
                    format!("`pagination.next` is {other}, neither a number, a token nor null"),
                )),
            }
        };
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut p = self.fetch_page(c, query(None)).await?;
        for page in 1u64..MAX_PAGES {
            let Some(next) = next_of(&p.body)? else {
                out.extend(map_page(p.items, map)?);
                return Ok(out);
            };
            if p.items.is_empty() {
                return Err(
                    self.incomplete(route, format!("page {page} is empty but names a next page"))
                );
            }
            if !seen.insert(next.clone()) {
                return Err(self.pagination_loop(route, page + 1));
            }
            // The next request goes out first; this page is mapped while it is in flight.
            let items = std::mem::take(&mut p.items);
            let next_page = self.fetch_page(c, query(Some(&next)));
            let (fetched, mapped) = futures::join!(next_page, async { map_page(items, map) });
            p = fetched?;
            out.extend(mapped?);
        }
        Err(self.pagination_loop(route, MAX_PAGES))
    }

    /// DigitalOcean: `page` + `per_page`; `meta.total` and `links.pages.next` ([do-spec]). With
    /// `meta.total` the remaining pages are fetched concurrently; without it, by following `next`.
    async fn list_page_links<R>(
        &self,
        c: Collection<'_, R>,
        max: u32,
    ) -> Result<Vec<R>, ProviderError> {
        let route = c.route;
        let per_page = page_size(c.options, max);
        let query = |page: u64| numbered(page, "per_page", per_page);
        let first = self.fetch_page(c, query(1)).await?;
        let do_total = |body: &Value| {
            body.get("meta")
                .and_then(|m| m.get("total"))
                .and_then(Value::as_u64)
        };
        let do_next = |body: &Value| {
            body.get("links")
                .and_then(|l| l.get("pages"))
                .and_then(|p| p.get("next"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let total = do_total(&first.body);
        let next = do_next(&first.body);
        let Some(total) = total else {
            return self.follow_next_links(c, first, per_page, &do_next).await;
        };
        if next.is_none() {
            return self.single_page(c, first.items, total);
        }
        // Page 1 is full when there is a next page, so its length is the page size the server
        // really used (it may cap `per_page` below what we asked).
        let size = first.items.len() as u64;
        if size == 0 {
            return Err(
                self.incomplete(route, "page 1 is empty but links to a next page".to_owned())
            );
        }
        let pages = total.div_ceil(size);
        if pages < 2 {
            return Err(self.changed(
                route,
                format!("page 1 links to a next page but meta.total is {total}"),
            ));
        }
        let check = |page: u64, p: &Page| -> Result<(), ProviderError> {
            if do_total(&p.body) != Some(total) {
                return Err(self.changed(
                    route,
                    format!("meta.total changed from {total} on page {page}"),
                ));
            }
            if page == pages && do_next(&p.body).is_some() {
                return Err(self.pagination_loop(route, page + 1));
            }
            Ok(())
        };
        let rest = Rest { total, size, pages };
        self.fetch_rest(c, first.items, rest, &query, &check).await
    }

    /// Pages 2..=`pages` concurrently, each checked by `check` and mapped as it arrives, while
    /// page 1 is mapped; reassembled in page order, then the whole listing checked against
    /// `total`.
    async fn fetch_rest<R>(
        &self,
        c: Collection<'_, R>,
        first: Vec<Item>,
        Rest { total, size, pages }: Rest,
        query: &(dyn Fn(u64) -> Vec<(String, String)> + Sync),
        check: &(dyn Fn(u64, &Page) -> Result<(), ProviderError> + Sync),
    ) -> Result<Vec<R>, ProviderError> {
        let (route, map) = (c.route, c.map);
        if pages > MAX_PAGES {
            return Err(self.pagination_loop(route, MAX_PAGES + 1));
        }
        let first_len = first.len() as u64;
        let rest = futures::stream::iter(2..=pages)
            .map(|page| async move {
                let p = self.fetch_page(c, query(page)).await?;
                check(page, &p)?;
                let len = p.items.len() as u64;
                if len == 0 {
                    return Err(self.incomplete(route, format!("page {page} of {pages} is empty")));
                }
                if page < pages && len != size {
                    return Err(self.changed(
                        route,
                        format!("page {page} of {pages} has {len} items, not {size}"),
                    ));
                }
                Ok((len, map_page(p.items, map)?))
            })
            // `buffered` keeps page order while up to N requests are in flight.
            .buffered(self.page_concurrency())
            .try_collect::<Vec<(u64, Vec<R>)>>();
        // The requests for pages 2.. go out first; page 1 is mapped while they are in flight.
        let (rest, first) = futures::join!(rest, async { map_page(first, map) });
        let rest = rest?;
        let mut out = first?;
        let listed = first_len + rest.iter().map(|(len, _)| len).sum::<u64>();
        if listed != total {
            return Err(self.changed(route, format!("{listed} items listed, {total} announced")));
        }
        out.reserve(rest.iter().map(|(_, mapped)| mapped.len()).sum());
        out.extend(rest.into_iter().flat_map(|(_, mapped)| mapped));
        Ok(out)
    }

    /// DigitalOcean collections without `meta.total`: follow `links.pages.next`, which must name
    /// the next page number.
    async fn follow_next_links<R>(
        &self,
        c: Collection<'_, R>,
        first: Page,
        per_page: u32,
        next_of: &(dyn Fn(&Value) -> Option<String> + Sync),
    ) -> Result<Vec<R>, ProviderError> {
        let (route, map) = (c.route, c.map);
        let mut next = next_of(&first.body);
        let mut out = map_page(first.items, map)?;
        let mut page = 1u64;
        while let Some(link) = next {
            let wanted = page + 1;
            let linked = linked_page(&link);
            if linked != Some(wanted) || wanted > MAX_PAGES {
                return Err(self.pagination_loop(route, wanted));
            }
            let p = self
                .fetch_page(c, numbered(wanted, "per_page", per_page))
                .await?;
            next = next_of(&p.body);
            if p.items.is_empty() && next.is_some() {
                return Err(self.incomplete(
                    route,
                    format!("page {wanted} is empty but links to a next page"),
                ));
            }
            out.extend(map_page(p.items, map)?);
            page = wanted;
        }
        Ok(out)
    }

    fn single_page<R>(
        &self,
        c: Collection<'_, R>,
        items: Vec<Item>,
        total: u64,
    ) -> Result<Vec<R>, ProviderError> {
        if items.len() as u64 != total {
            return Err(self.changed(
                c.route,
                format!("{} items listed, {total} announced", items.len()),
            ));
        }
        map_page(items, c.map)
    }

    /// One page: the request (paced as a list), then the array under `list_key`.
    async fn fetch_page<R>(
        &self,
        c: Collection<'_, R>,
        mut query: Vec<(String, String)>,
    ) -> Result<Page, ProviderError> {
        let Collection {
            route,
            list_key,
            options,
            ..
        } = c;
        query.extend(options.query.iter().cloned());
        let headers: Vec<(&str, &str)> = options
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let path = options.path.as_deref().unwrap_or(route);
        let mut out = self.outgoing(Method::GET, route, path, &query, &headers, None)?;
        out.list = true;
        let bare = options
            .scheme
            .unwrap_or(self.declaration().pagination)
            .bare_list();
        let (items, body) = self
            .execute_with(&out, &|bytes, status| {
                let (items, body) =
                    parse_page(bytes, list_key, bare).map_err(|e| malformed(status, &e))?;
                self.refuse_envelope(&body)?;
                Ok((items, body))
            })
            .await?;
        let Some(items) = items else {
            return Err(self.error(
                &out.route,
                ErrorClass::Transient,
                format!("the response has no `{list_key}` list"),
            ));
        };
        Ok(Page { items, body })
    }

    fn pagination_loop(&self, route: &str, page: u64) -> ProviderError {
        let key = route_key(&Method::GET, route);
        self.incomplete(route, format!("pagination loop at {key} page {page}"))
    }

    fn incomplete(&self, route: &str, what: String) -> ProviderError {
        self.listing_error(route, format!("{what}; the listing is incomplete"))
    }

    fn changed(&self, route: &str, what: String) -> ProviderError {
        self.listing_error(
            route,
            format!("the listing changed while it was paged ({what}); sync again"),
        )
    }

    /// A transient error of the listing at `route` (a listing is complete or an error).
    fn listing_error(&self, route: &str, message: String) -> ProviderError {
        self.error(
            &route_key(&Method::GET, route),
            ErrorClass::Transient,
            message,
        )
    }
}

/// The query of page `page` of a numbered scheme: `page` and the page size under `size_key`.
fn numbered(page: u64, size_key: &str, size: impl ToString) -> Vec<(String, String)> {
    vec![
        ("page".to_owned(), page.to_string()),
        (size_key.to_owned(), size.to_string()),
    ]
}

fn page_size(options: &ListOptions, max: u32) -> u32 {
    options.page_size.unwrap_or(max).clamp(1, max)
}

/// The `page` query parameter of a DigitalOcean `links.pages` URL.
fn linked_page(link: &str) -> Option<u64> {
    let url = reqwest::Url::parse(link).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_from_links() {
        assert_eq!(
            linked_page("https://api.digitalocean.com/v2/droplets?page=3&per_page=200"),
            Some(3)
        );
        assert_eq!(
            linked_page("https://api.digitalocean.com/v2/droplets"),
            None
        );
        assert_eq!(linked_page("not a url"), None);
    }

    #[test]
    fn page_sizes_are_clamped_to_the_provider_maximum() {
        assert_eq!(page_size(&ListOptions::new(), 500), 500);
        assert_eq!(page_size(&ListOptions::new().page_size(1000), 200), 200);
        assert_eq!(page_size(&ListOptions::new().page_size(0), 200), 1);
    }
}
