//! `Dialect`: which provider a dock's client talks to, for the few things that differ at the HTTP
//! level (default base URL, error body shape, rate-limit headers, pagination scheme).

use stackdock_core::ProviderKind;

/// How a provider speaks HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Vultr v2: `{"error": "...", "status": n}`, no rate-limit headers, cursor pagination.
    Vultr,
    /// DigitalOcean v2: `{"id", "message", "request_id"}`, `ratelimit-*` headers, page/per_page.
    DigitalOcean,
    /// Linode v4: `{"errors": [{"reason", "field"}]}`, `X-RateLimit-*` headers, page/page_size.
    Linode,
}

impl Dialect {
    /// The production base URL, version path included ([govultr], [godo], [linodego]).
    pub fn default_base_url(self) -> &'static str {
        match self {
            Dialect::Vultr => "https://api.vultr.com/v2",
            Dialect::DigitalOcean => "https://api.digitalocean.com/v2",
            Dialect::Linode => "https://api.linode.com/v4",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Vultr => "vultr",
            Dialect::DigitalOcean => "digitalocean",
            Dialect::Linode => "linode",
        }
    }
}

impl From<ProviderKind> for Dialect {
    fn from(kind: ProviderKind) -> Dialect {
        match kind {
            ProviderKind::Vultr => Dialect::Vultr,
            ProviderKind::DigitalOcean => Dialect::DigitalOcean,
            ProviderKind::Linode => Dialect::Linode,
        }
    }
}
