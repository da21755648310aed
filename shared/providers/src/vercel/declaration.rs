//! Vercel's API at the HTTP level, declared once: base URL (each path carries its own version),
//! the millisecond `until` cursor of its domain and record listings, the `{"error": {code,
//! message}}` body, the `X-RateLimit-*` headers, the `teamId` every request carries, and the keys
//! that hold secrets.

use std::time::Duration;

use stackdock_core::ProviderKind;
use stackdock_core::kind::VERCEL_TEAM_ID;

use crate::http::{
    Bucket, Declaration, ErrorBody, Pagination, RateHeaderForm, RateHeaders, RateLimits, Scope,
    WindowScope,
};

pub static DECLARATION: Declaration = Declaration {
    provider: ProviderKind::Vercel,
    display_name: "Vercel",
    // [vercel-docs] "API Basics": `https://api.vercel.com`, a version in each endpoint's path.
    base_url: ProviderKind::Vercel.default_endpoint(),
    // [vercel-sdk] `Pagination {count, next, prev}`: `next` is the timestamp to send as `until`;
    // [vercel-tf] client/pagination.go and dns_record.go: 100 is the largest `limit`.
    pagination: Pagination::Until { max: 100 },
    // [vercel-sdk] getProjects: `from` takes `pagination.next`, a number or a continuation
    // token; `limit` at most 100 (provider-apis-2.md §1.2).
    route_pagination: &[("/v10/projects", Pagination::Continuation { max: 100 })],
    // [vercel-tf] client/error.go `APIError`.
    errors: ErrorBody::ErrorObject,
    // [vercel-docs] /docs/limits: `X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch
    // seconds), one window per action (so per route), `Retry-After` on a 429.
    rate_headers: Some(RateHeaders {
        form: RateHeaderForm::Counters {
            remaining: "x-ratelimit-remaining",
            reset: "x-ratelimit-reset",
        },
        scope: WindowScope::Route,
    }),
    rate_limits,
    secret_keys: SECRET_KEYS,
    request_id_header: None,
    maintenance_header: None,
    // [vercel-sdk] every request type's optional `teamId` query parameter.
    setting_params: &[("teamId", VERCEL_TEAM_ID.spec.key)],
};

/// Vercel secret fields (provider-apis-2.md §1.5): the stored forms of environment variable
/// values, deploy-hook URLs (anyone holding one triggers builds), the protection-bypass map (its
/// keys are the secrets) and a deployment's git token. An environment variable's plain `value`
/// is not listed: the key is matched everywhere, and a DNS record's `value` is its data; the
/// projects' mapping removes `env[].value` itself.
pub const SECRET_KEYS: &[&str] = &[
    "vsmValue",
    "legacyValue",
    "encryptedValue",
    "deployHooks",
    "protectionBypass",
    "gitAccessToken",
];

/// provider-apis-2.md §1.1: "REST API (read) 1,200/min per team" (secondary source); the headers
/// drive the rest. 1,000 per minute leaves room for other clients of the team.
fn rate_limits() -> RateLimits {
    RateLimits::unlimited().with(Bucket::new(
        "vercel 1200/min",
        1000,
        Duration::from_secs(60),
        Scope::All,
    ))
}
