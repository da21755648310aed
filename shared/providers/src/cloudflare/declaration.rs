//! Cloudflare's API v4 at the HTTP level, declared once: base URL, `page`/`per_page` pagination
//! with `result_info` (each list's own `per_page` maximum), the `{"success": false, "errors":
//! [...]}` envelope, the structured `Ratelimit` header, the published limits and the keys that
//! hold secrets. Sources: [cf-spec] cloudflare/api-schemas `openapi.json`
//! (`fixtures/specs/cloudflare/operations.json`), [cf-docs] API limits; provider-apis-2.md §3.

use std::time::Duration;

use stackdock_core::ProviderKind;

use crate::http::{
    Bucket, Declaration, ErrorBody, Pagination, RateHeaderForm, RateHeaders, RateLimits, Scope,
    WindowScope,
};

/// The DNS records of one zone ([cf-spec] dns-records-for-a-zone-list-dns-records).
pub(super) const RECORDS_ROUTE: &str = "/zones/{zone_id}/dns_records";

/// The D1 databases of an account ([cf-spec] cloudflare-d1-list-databases).
pub(super) const DATABASES_ROUTE: &str = "/accounts/{account_id}/d1/database";

/// The Pages projects of an account ([cf-spec] pages-project-get-projects): the operation
/// declares no paging parameter and [cf-go] lists it as a `SinglePage`, so it is read whole (its
/// `result_info.total_count` is checked against the items served).
pub(super) const PAGES_ROUTE: &str = "/accounts/{account_id}/pages/projects";

/// The Workers scripts of an account ([cf-spec] worker-script-list-workers): the operation
/// declares no paging parameter and [cf-go] reads it as a `SinglePage`, so it is read whole.
pub(super) const WORKERS_ROUTE: &str = "/accounts/{account_id}/workers/scripts";

/// The R2 buckets of an account ([cf-spec] r2-list-buckets).
pub(super) const BUCKETS_ROUTE: &str = "/accounts/{account_id}/r2/buckets";

pub static DECLARATION: Declaration = Declaration {
    provider: ProviderKind::Cloudflare,
    display_name: "Cloudflare",
    base_url: ProviderKind::Cloudflare.default_endpoint(),
    // [cf-spec] zones-get `per_page`: minimum 5, maximum 50 (default 20); every list answers
    // `result_info {page, per_page, count, total_count, total_pages}`.
    pagination: Pagination::ResultInfo { max: 50 },
    route_pagination: &[
        // [cf-spec] dns-records-for-a-zone-list-dns-records `per_page`: maximum 5,000,000
        // (default 100): one request lists any zone.
        (RECORDS_ROUTE, Pagination::ResultInfo { max: 5_000_000 }),
        // [cf-spec] r2-list-buckets: `per_page` 1 to 1,000 (default 20) and `cursor`; the next
        // cursor in `result_info.cursor` ([cf-go] r2/bucket.go `BucketListResponse`).
        (BUCKETS_ROUTE, Pagination::ResultInfoCursor { max: 1_000 }),
        // [cf-spec] cloudflare-d1-list-databases `per_page`: 10 to 10,000 (default 1,000).
        (DATABASES_ROUTE, Pagination::ResultInfo { max: 10_000 }),
    ],
    // [cf-spec] `api-response-common-failure`.
    errors: ErrorBody::SuccessEnvelope,
    // [cf-docs]: `Ratelimit: "default";r=<left>;t=<seconds>`, one budget per token.
    rate_headers: Some(RateHeaders {
        form: RateHeaderForm::Structured { name: "ratelimit" },
        scope: WindowScope::Token,
    }),
    rate_limits,
    secret_keys: SECRET_KEYS,
    request_id_header: Some("cf-ray"),
    maintenance_header: None,
    // `account_id` is a path segment, not a query parameter.
    setting_params: &[],
};

/// Cloudflare secret fields (provider-apis-2.md §3.5): a partial zone's `verification_key`
/// (its ownership token). A Pages project's `web_analytics_token` goes by the generic rule (a
/// key naming a token); its environment variables' values sit under the key `value`, which is
/// data elsewhere (a DNS record's), so `pages.rs` removes those itself.
pub const SECRET_KEYS: &[&str] = &["verification_key"];

/// [cf-docs] "Rate limits": 1,200 requests per five minutes per user or account token, and 200
/// requests per second per IP; each kept a little below the published number.
fn rate_limits() -> RateLimits {
    RateLimits::unlimited()
        .with(Bucket::new(
            "cloudflare 1200/5min",
            1_150,
            Duration::from_secs(300),
            Scope::All,
        ))
        .with(Bucket::new(
            "cloudflare 200/s",
            180,
            Duration::from_secs(1),
            Scope::All,
        ))
}
