//! Cloudflare's page scheme (`V4PagePaginationArray`, [cf-spec]): `page` (from 1) and
//! `per_page`; each page answers its items under the list key beside
//! `result_info: {page, per_page, count, total_count, total_pages}`.
//!
//! The official SDK asks for pages until one comes back empty (provider-apis-2.md §3.2), which
//! costs a request per listing; here page 1's `total_pages` says how many there are, pages
//! 2..N are fetched concurrently, and every page must repeat page 1's totals and its own number.

use serde_json::Value;

use super::{Collection, DockClient, Page, Rest, numbered, page_size};
use crate::ProviderError;

/// A number of a page's `result_info`.
fn info(body: &Value, key: &str) -> Option<u64> {
    body.get("result_info")
        .and_then(|i| i.get(key))
        .and_then(Value::as_u64)
}

impl DockClient {
    /// Cloudflare: `page` + `per_page`; `result_info.total_count` and `total_pages`.
    pub(super) async fn list_result_info<R>(
        &self,
        c: Collection<'_, R>,
        max: u32,
    ) -> Result<Vec<R>, ProviderError> {
        let route = c.route;
        let per_page = page_size(c.options, max);
        let query = |page: u64| numbered(page, "per_page", per_page);
        let first = self.fetch_page(c, query(1)).await?;
        let total = info(&first.body, "total_count").unwrap_or(first.items.len() as u64);
        let pages = info(&first.body, "total_pages").unwrap_or(1).max(1);
        if pages == 1 {
            return self.single_page(c, first.items, total);
        }
        let size = first.items.len() as u64;
        if size == 0 {
            return Err(self.incomplete(route, format!("page 1 of {pages} is empty")));
        }
        // More pages announced than the items need: following them would fetch duplicates.
        if pages > total.div_ceil(size) {
            return Err(self.pagination_loop(route, total.div_ceil(size) + 1));
        }
        let check = |page: u64, p: &Page| -> Result<(), ProviderError> {
            if info(&p.body, "page").is_some_and(|n| n != page) {
                return Err(self.pagination_loop(route, page));
            }
            if info(&p.body, "total_pages") != Some(pages)
                || info(&p.body, "total_count") != Some(total)
            {
                return Err(self.changed(
                    route,
                    format!("result_info's totals changed on page {page}"),
                ));
            }
            Ok(())
        };
        let rest = Rest { total, size, pages };
        self.fetch_rest(c, first.items, rest, &query, &check).await
    }
}
