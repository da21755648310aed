//! `Declaration`: what the shared plumbing needs to know about one provider's API, declared once
//! in the provider's own folder (`vultr/mod.rs`: `vultr::DECLARATION`) and read here. Nothing in
//! the plumbing matches on the provider: it reads the pagination scheme, the error-body format, the
//! rate-limit headers and the quirks from the declaration.

use stackdock_core::ProviderKind;

use super::limit::RateLimits;

/// One provider's API at the HTTP level.
#[derive(Debug)]
pub struct Declaration {
    pub provider: ProviderKind,
    /// The name people know it by, for messages (`DigitalOcean`).
    pub display_name: &'static str,
    /// The production base URL, version path included (used when a dock sets no `endpoint`).
    pub base_url: &'static str,
    /// How its collections are paged, and the largest page.
    pub pagination: Pagination,
    /// Routes paged otherwise than `pagination`, each with its own scheme and largest page
    /// (Cloudflare documents a `per_page` maximum per list, and R2 buckets page by cursor):
    /// `(route template, scheme)`.
    pub route_pagination: &'static [(&'static str, Pagination)],
    /// How its error bodies read.
    pub errors: ErrorBody,
    /// Its rate-limit headers, if it sends any.
    pub rate_headers: Option<RateHeaders>,
    /// Its published rate limits, as client-side buckets.
    pub rate_limits: fn() -> RateLimits,
    /// Keys of its objects that hold secrets: removed before anything is stored.
    pub secret_keys: &'static [&'static str],
    /// A response header naming the request, added to error messages (DigitalOcean
    /// `x-request-id`), so a support ticket can quote it.
    pub request_id_header: Option<&'static str>,
    /// A 503 carrying this header is planned maintenance (Linode `x-maintenance-mode`): it lasts
    /// longer than a retry loop, so it is not retried.
    pub maintenance_header: Option<&'static str>,
    /// Dock settings every request carries as a query parameter, as (parameter, setting key):
    /// Vercel's `teamId` from the dock's `team_id`. A dock without the setting sends none.
    pub setting_params: &'static [(&'static str, &'static str)],
}

impl Declaration {
    /// The published rate limits as fresh client-side buckets.
    pub fn published_limits(&self) -> RateLimits {
        (self.rate_limits)()
    }
}

/// A pagination scheme (each implemented once, in `paginate.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pagination {
    /// `per_page` and an opaque `cursor`; `meta.links.next` is empty on the last page (Vultr).
    Cursor { max: u32 },
    /// `page` (from 1) and `per_page`; `meta.total` and `links.pages.next` (DigitalOcean).
    PageLinks { max: u32 },
    /// `page` (from 1) and `page_size`; `page`, `pages` and `results` (Linode).
    PageCount { max: u32 },
    /// `limit` and a millisecond-timestamp cursor sent back as `until` (items created before it);
    /// `pagination.next` is the next timestamp, `null` on the last page (Vercel domains, DNS
    /// records).
    Until { max: u32 },
    /// `limit` and a continuation sent back as `from`; `pagination.next` is a number or an
    /// opaque string token, `null` on the last page (Vercel projects).
    Continuation { max: u32 },
    /// `page` (from 1) and `per_page`; the items under the list key beside a `result_info` of
    /// `page`, `per_page`, `count`, `total_count` and `total_pages` (Cloudflare's
    /// `V4PagePaginationArray`).
    ResultInfo { max: u32 },
    /// `per_page` and an opaque `cursor`; the next cursor is `result_info.cursor`, empty or
    /// absent on the last page, and no total is announced (Cloudflare R2 buckets).
    ResultInfoCursor { max: u32 },
}

impl Pagination {
    /// Whether a list may come as a bare array, without its envelope: the `from` continuation's
    /// listing (Vercel projects: [vercel-sdk] getProjects' answer is `{projects, pagination}` or a
    /// bare array).
    pub fn bare_list(self) -> bool {
        matches!(self, Pagination::Continuation { .. })
    }

    /// The largest page the provider serves.
    pub fn max(self) -> u32 {
        match self {
            Pagination::Cursor { max }
            | Pagination::PageLinks { max }
            | Pagination::PageCount { max }
            | Pagination::Until { max }
            | Pagination::Continuation { max }
            | Pagination::ResultInfo { max }
            | Pagination::ResultInfoCursor { max } => max,
        }
    }
}

impl Declaration {
    /// How `route` is paged: its own scheme, or the provider's.
    pub fn pagination_of(&self, route: &str) -> Pagination {
        self.route_pagination
            .iter()
            .find(|(r, _)| *r == route)
            .map_or(self.pagination, |(_, scheme)| *scheme)
    }

    /// The largest page of `route`.
    pub fn page_max(&self, route: &str) -> u32 {
        self.pagination_of(route).max()
    }
}

/// An error-body format (each read once, in `classify.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorBody {
    /// `{"error": "<message>", "status": <int>}` (Vultr).
    ErrorAndStatus,
    /// `{"id": "<slug>", "message": "…", "request_id": "…"}` (DigitalOcean).
    IdAndMessage,
    /// `{"errors": [{"reason": "…", "field": "<optional>"}]}` (Linode).
    ErrorList,
    /// `{"error": {"code": "<slug>", "message": "…"}}` (Vercel).
    ErrorObject,
    /// Every answer in one envelope, `{"success": false, "errors": [{"code": <int>, "message":
    /// "…"}], "messages": [], "result": null}` on a failure (Cloudflare API v4).
    SuccessEnvelope,
}

/// Rate-limit headers: how they say what is left of the window, and what an exhausted window
/// stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateHeaders {
    pub form: RateHeaderForm,
    /// What an exhausted window stops.
    pub scope: WindowScope,
}

/// How rate-limit headers say what is left of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateHeaderForm {
    /// One header with the requests left, one with the reset time in epoch seconds
    /// (DigitalOcean `ratelimit-remaining`/`ratelimit-reset`, Linode `X-RateLimit-*`).
    Counters {
        remaining: &'static str,
        reset: &'static str,
    },
    /// One structured field of the IETF draft `draft-ietf-httpapi-ratelimit-headers`:
    /// `"<policy>";r=<requests left>;t=<seconds until the window resets>` (Cloudflare
    /// `Ratelimit: "default";r=50;t=30`, beside `Ratelimit-Policy: "default";q=1200;w=300`).
    Structured { name: &'static str },
}

/// What one rate-limit window covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowScope {
    /// One budget per token: every request waits (DigitalOcean).
    Token,
    /// One window per operation: only that route waits (Linode).
    Route,
}
