//! DigitalOcean's API at the HTTP level, declared once: base URL, page/per_page pagination with
//! links, error bodies, rate limits and their headers, and the keys that hold secrets.

use std::time::Duration;

use stackdock_core::ProviderKind;

use crate::http::{
    Bucket, Declaration, ErrorBody, Pagination, RateHeaderForm, RateHeaders, RateLimits, Scope,
    WindowScope,
};

pub static DECLARATION: Declaration = Declaration {
    provider: ProviderKind::DigitalOcean,
    display_name: "DigitalOcean",
    // [godo] godo.go `defaultBaseURL` + the v2 path.
    base_url: ProviderKind::DigitalOcean.default_endpoint(),
    // [do-spec] description.yml: "maximum number of results per page is 200".
    pagination: Pagination::PageLinks { max: 200 },
    route_pagination: &[],
    // [do-spec] error.yml.
    errors: ErrorBody::IdAndMessage,
    // [do-spec] description.yml "Rate Limit": one budget per token.
    rate_headers: Some(RateHeaders {
        form: RateHeaderForm::Counters {
            remaining: "ratelimit-remaining",
            reset: "ratelimit-reset",
        },
        scope: WindowScope::Token,
    }),
    rate_limits,
    secret_keys: SECRET_KEYS,
    request_id_header: Some("x-request-id"),
    maintenance_header: None,
    setting_params: &[],
};

/// DigitalOcean secret fields: cloud-init user data (database connection URIs carry their
/// password in the user-info part, which the URL rule removes).
pub const SECRET_KEYS: &[&str] = &["user_data", "password"];

/// [do-spec] description.yml "Rate Limit": per token, 250 requests per minute and 5,000 per hour,
/// the hour a sliding window; each kept a little below the published number.
fn rate_limits() -> RateLimits {
    const MIN: Duration = Duration::from_secs(60);
    const HOUR: Duration = Duration::from_secs(3600);
    RateLimits::unlimited()
        .with(Bucket::new("digitalocean 250/min", 240, MIN, Scope::All))
        .with(Bucket::new("digitalocean 5000/h", 4_800, HOUR, Scope::All))
}
