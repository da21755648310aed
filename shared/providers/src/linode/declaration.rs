//! Linode's API at the HTTP level, declared once: base URL, page/page_size pagination, error
//! bodies, per-operation rate limits and their headers, maintenance mode, and the keys that hold
//! secrets.

use std::time::Duration;

use stackdock_core::ProviderKind;

use crate::http::{
    Bucket, Declaration, ErrorBody, Pagination, RateHeaderForm, RateHeaders, RateLimits, Scope,
    WindowScope,
};

pub static DECLARATION: Declaration = Declaration {
    provider: ProviderKind::Linode,
    display_name: "Linode",
    // [linodego] client.go `APIHost` + `APIVersion`.
    base_url: ProviderKind::Linode.default_endpoint(),
    // [linode-docs] pagination: `page_size` 25–500.
    pagination: Pagination::PageCount { max: 500 },
    route_pagination: &[],
    // [linodego] errors.go.
    errors: ErrorBody::ErrorList,
    // [linode-docs] reference/rate-limits: windows per operation.
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
    // [linodego] retries.go does not retry maintenance 503s.
    maintenance_header: Some("x-maintenance-mode"),
    setting_params: &[],
};

/// Linode secret fields: the root password (create requests and some echoes), Object Storage
/// key secrets, and metadata user data.
pub const SECRET_KEYS: &[&str] = &["root_pass", "secret_key", "user_data"];

/// [linode-docs] reference/rate-limits: per-user, per-operation windows. "Create a Linode" 20 per
/// 15 s, "Create a volume" 100/min, "List images" 20/min; a secondary summary gives 200/min for
/// paginated collections and 1,600/min for everything else (values that changed over time,
/// linode-api-docs #861/#887), so the general bucket takes half of that. Each is kept a little
/// below the published number; the headers (`X-RateLimit-*`) refine this at run time.
fn rate_limits() -> RateLimits {
    const MIN: Duration = Duration::from_secs(60);
    let route = |r: &str| Scope::Route(r.to_owned());
    RateLimits::unlimited()
        .with(Bucket::new("linode general", 800, MIN, Scope::All))
        .with(Bucket::new(
            "linode collections 200/min",
            190,
            MIN,
            Scope::Lists,
        ))
        .with(Bucket::new(
            "linode create instance 20/15s",
            19,
            Duration::from_secs(15),
            route("POST /linode/instances"),
        ))
        .with(Bucket::new(
            "linode create volume 100/min",
            95,
            MIN,
            route("POST /volumes"),
        ))
        .with(Bucket::new(
            "linode list images 20/min",
            19,
            MIN,
            route("GET /images"),
        ))
}
