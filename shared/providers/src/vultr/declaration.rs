//! Vultr's API at the HTTP level, declared once: base URL, cursor pagination, error bodies, rate
//! limits (no headers) and the keys that hold secrets.

use std::time::Duration;

use stackdock_core::ProviderKind;

use crate::http::{Bucket, Declaration, ErrorBody, Pagination, RateLimits, Scope};

pub static DECLARATION: Declaration = Declaration {
    provider: ProviderKind::Vultr,
    display_name: "Vultr",
    // [govultr] client.go `defaultBase`.
    base_url: ProviderKind::Vultr.default_endpoint(),
    // [govultr] README "Pagination": `per_page` up to 500 and a `cursor`.
    pagination: Pagination::Cursor { max: 500 },
    route_pagination: &[],
    // [tf-vultr] utility.go `apiError`.
    errors: ErrorBody::ErrorAndStatus,
    rate_headers: None,
    rate_limits,
    secret_keys: SECRET_KEYS,
    request_id_header: None,
    maintenance_header: None,
    setting_params: &[],
};

/// Vultr secret fields ([vultr-spec], provider-apis.md §6.4): the root password, the console URL
/// (it embeds a session token), cloud-init user data, and managed-database credentials, which
/// Vultr includes even in list responses.
pub const SECRET_KEYS: &[&str] = &[
    "default_password",
    "kvm",
    "user_data",
    "password",
    "access_key",
    "access_cert",
    "ferretdb_credentials",
];

/// [vultr-spec] README "Rate Limit": more than 30 requests per second per source IP may get a 429.
/// No headers tell us where we stand, so the client bucket is the only guard; 25 leaves room for
/// other clients on the same IP and jitter (the server counts arrivals, we count departures).
fn rate_limits() -> RateLimits {
    RateLimits::unlimited().with(Bucket::new(
        "vultr 30/s",
        25,
        Duration::from_secs(1),
        Scope::All,
    ))
}
