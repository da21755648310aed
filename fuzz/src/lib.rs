//! The bodies of the fuzz targets, as plain functions: libFuzzer calls them from
//! `fuzz_targets/*.rs` (nightly, `cargo fuzz`), and `tests/corpus.rs` replays every seed of
//! `corpus/<target>/` through them on stable, so the targets are exercised even where libFuzzer
//! cannot run.
//!
//! Each function only has to return: a panic, an overflow or a hang is the bug being looked for.

use stackdock_core::config::CredentialRef;
use stackdock_core::{Kind, ProviderKind, Record};
use stackdock_providers::{DockContext, ProviderError};

/// A target's body.
pub type Target = fn(&[u8]);

/// An adapter's `decode_list_page`.
type Decode = fn(&DockContext, Kind, &[u8]) -> Result<Vec<Record>, ProviderError>;

/// The targets by name, as `scripts/fuzz.sh` and the corpus test know them.
pub const TARGETS: [(&str, Target); 5] = [
    ("config_parse", config_parse),
    ("vultr_decode", vultr_decode),
    ("digitalocean_decode", digitalocean_decode),
    ("linode_decode", linode_decode),
    ("vercel_decode", vercel_decode),
    ("cloudflare_decode", cloudflare_decode),
];

/// Arbitrary bytes as a `stackdock.toml`: invalid UTF-8 is refused before parsing, as the CLI does.
pub fn config_parse(data: &[u8]) {
    if let Ok(source) = std::str::from_utf8(data) {
        let _ = stackdock_core::config::parse("fuzz.toml", source);
    }
}

fn ctx(provider: ProviderKind) -> DockContext {
    DockContext {
        org: "fuzz".into(),
        dock: "fuzz".into(),
        dock_id: "fuzz/fuzz".into(),
        provider,
        credential_source: CredentialRef::Env("FUZZ_TOKEN".into()),
        settings: Default::default(),
    }
}

/// The first byte picks the kind (so one corpus covers every listing), the rest is the page body.
fn decode(provider: ProviderKind, kinds: &[Kind], data: &[u8], f: Decode) {
    let Some((first, body)) = data.split_first() else {
        return;
    };
    let kind = kinds[usize::from(*first) % kinds.len()];
    let _ = f(&ctx(provider), kind, body);
}

/// A Vultr list page (`instances`, `blocks`, `databases`).
pub fn vultr_decode(data: &[u8]) {
    decode(
        ProviderKind::Vultr,
        &[Kind::Servers, Kind::BlockVolumes, Kind::Databases],
        data,
        stackdock_providers::vultr::decode_list_page,
    );
}

/// A DigitalOcean list page (`droplets`, `volumes`).
pub fn digitalocean_decode(data: &[u8]) {
    decode(
        ProviderKind::DigitalOcean,
        &[Kind::Servers, Kind::BlockVolumes],
        data,
        stackdock_providers::digitalocean::decode_list_page,
    );
}

/// A Linode list page (`data` of instances, volumes, buckets).
pub fn linode_decode(data: &[u8]) {
    decode(
        ProviderKind::Linode,
        &[Kind::Servers, Kind::BlockVolumes, Kind::Buckets],
        data,
        stackdock_providers::linode::decode_list_page,
    );
}

/// A Vercel list page (`domains`, `projects`).
pub fn vercel_decode(data: &[u8]) {
    decode(
        ProviderKind::Vercel,
        &[Kind::Domains, Kind::WebServices],
        data,
        stackdock_providers::vercel::decode_list_page,
    );
}

/// A Cloudflare list page (`result` of zones, `result.buckets` of R2 buckets, `result` of D1
/// databases, `result` of Pages projects).
pub fn cloudflare_decode(data: &[u8]) {
    decode(
        ProviderKind::Cloudflare,
        &[Kind::Domains, Kind::Buckets, Kind::Databases, Kind::WebServices],
        data,
        stackdock_providers::cloudflare::decode_list_page,
    );
}
