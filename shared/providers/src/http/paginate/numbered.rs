//! Page-numbered listings that announce their shape on page 1: Linode's `page` + `page_size`
//! with `page`, `pages` and `results` in the body ([linode-docs] pagination), and Cloudflare's
//! `page` + `per_page` with `result_info: {page, per_page, count, total_count, total_pages}`
//! (`V4PagePaginationArray`, [cf-spec]).
//!
//! Page 1 says how many pages and items there are; pages 2..N are fetched concurrently, and every
//! page must repeat page 1's totals and its own number. (Cloudflare's official SDK instead asks
//! for pages until one comes back empty, provider-apis-2.md §3.2: a request more per listing.)

use serde_json::Value;

use super::{Collection, DockClient, Page, Rest, numbered, page_size};
use crate::ProviderError;

/// Where a page-numbered scheme keeps its numbers: the page-size query key and JSON pointers
/// into each page's body.
pub(super) struct NumberedAt {
    /// The page-size query parameter.
    size_key: &'static str,
    /// The page's own number.
    page: &'static str,
    /// The number of pages announced.
    pages: &'static str,
    /// The number of items announced.
    total: &'static str,
    /// Whether every page must state its number. Linode answers a page past the end with the
    /// last page, so a page without its number cannot be told from a loop.
    page_required: bool,
}

/// Linode: `page_size`; `page`, `pages`, `results` at the top of the body.
pub(super) const PAGE_COUNT: NumberedAt = NumberedAt {
    size_key: "page_size",
    page: "/page",
    pages: "/pages",
    total: "/results",
    page_required: true,
};

/// Cloudflare: `per_page`; the numbers under `result_info`.
pub(super) const RESULT_INFO_PAGES: NumberedAt = NumberedAt {
    size_key: "per_page",
    page: "/result_info/page",
    pages: "/result_info/total_pages",
    total: "/result_info/total_count",
    page_required: false,
};

fn number(body: &Value, pointer: &str) -> Option<u64> {
    body.pointer(pointer).and_then(Value::as_u64)
}

impl DockClient {
    /// Every page of a page-numbered listing whose numbers are where `at` says.
    pub(super) async fn list_numbered<R>(
        &self,
        c: Collection<'_, R>,
        max: u32,
        at: &NumberedAt,
    ) -> Result<Vec<R>, ProviderError> {
        let route = c.route;
        let per_page = page_size(c.options, max);
        let query = |page: u64| numbered(page, at.size_key, per_page);
        let first = self.fetch_page(c, query(1)).await?;
        let pages = number(&first.body, at.pages).unwrap_or(1).max(1);
        let total = number(&first.body, at.total).unwrap_or(first.items.len() as u64);
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
            let stated = number(&p.body, at.page);
            if stated.map_or(at.page_required, |n| n != page) {
                return Err(self.pagination_loop(route, page));
            }
            if number(&p.body, at.pages) != Some(pages) || number(&p.body, at.total) != Some(total)
            {
                return Err(self.changed(
                    route,
                    format!("the announced pages or item total changed on page {page}"),
                ));
            }
            Ok(())
        };
        let rest = Rest { total, size, pages };
        self.fetch_rest(c, first.items, rest, &query, &check).await
    }
}
