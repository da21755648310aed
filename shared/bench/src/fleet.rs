//! A fleet for benchmarking: the provider sandbox seeded with `total` resources spread evenly over
//! every (dock, kind) StackDock syncs, a dock per provider pointed at it, and a store.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use stackdock_core::config::{
    Config, CredentialRef, DesiredResource, DockConfig, DriftMode, Settings,
};
use stackdock_core::dock_settings::DockSettings;
use stackdock_core::{FieldValue, Kind, ProviderKind};
use stackdock_engine::{Adapters, Docks, StaticResolver};
use stackdock_providers::wait::PollPolicy;
use stackdock_providers::{Credential, Tuning};
use stackdock_sandbox::{
    Kind as SbKind, Provider, RateLimit, Sandbox, SandboxConfig, SandboxHandle,
};
use stackdock_store::Store;
use stackdock_store::sqlite::SqliteStore;

pub const ORG: &str = "bench";

/// Every (provider, kind) StackDock syncs, with the sandbox's name for the kind.
pub const PAIRS: [(ProviderKind, Kind, SbKind); 15] = [
    (ProviderKind::Vultr, Kind::Servers, SbKind::Instance),
    (ProviderKind::Vultr, Kind::BlockVolumes, SbKind::Volume),
    (ProviderKind::Vultr, Kind::Databases, SbKind::Database),
    (ProviderKind::DigitalOcean, Kind::Servers, SbKind::Instance),
    (
        ProviderKind::DigitalOcean,
        Kind::BlockVolumes,
        SbKind::Volume,
    ),
    (ProviderKind::Linode, Kind::Servers, SbKind::Instance),
    (ProviderKind::Linode, Kind::BlockVolumes, SbKind::Volume),
    (ProviderKind::Linode, Kind::Buckets, SbKind::Bucket),
    // DNS records, all in one generated zone (the sandbox's bulk zone).
    (
        ProviderKind::DigitalOcean,
        Kind::DomainRecords,
        SbKind::DomainRecord,
    ),
    // Cloudflare: DNS records in its generated zone, R2 buckets (default jurisdiction; the
    // other two are listed empty) and D1 databases, all under the dock's `account_id`.
    (
        ProviderKind::Cloudflare,
        Kind::DomainRecords,
        SbKind::DomainRecord,
    ),
    (ProviderKind::Cloudflare, Kind::Buckets, SbKind::Bucket),
    (ProviderKind::Cloudflare, Kind::Databases, SbKind::Database),
    // Vercel: DNS records of its generated domain, whose DNS Vercel hosts, and projects (web
    // services; each deployed, with a variable), paged with the `from` continuation.
    (
        ProviderKind::Vercel,
        Kind::DomainRecords,
        SbKind::DomainRecord,
    ),
    (ProviderKind::Vercel, Kind::WebServices, SbKind::WebService),
    // Cloudflare Pages projects (web services; each deployed from a repository, with a variable
    // per environment), listed whole beside the account's Workers scripts (none here).
    (
        ProviderKind::Cloudflare,
        Kind::WebServices,
        SbKind::WebService,
    ),
];

pub fn dock_name(p: ProviderKind) -> &'static str {
    match p {
        ProviderKind::Vultr => "vultr-main",
        ProviderKind::DigitalOcean => "do-main",
        ProviderKind::Linode => "linode-main",
        ProviderKind::Vercel => "vercel-main",
        ProviderKind::Cloudflare => "cloudflare-main",
    }
}

pub fn sandbox_provider(p: ProviderKind) -> Provider {
    // The sandbox names each provider as `stackdock.toml` does (`ProviderKind::as_str`).
    p.as_str()
        .parse()
        .unwrap_or_else(|e| panic!("the sandbox speaks every provider StackDock has: {e}"))
}

/// `total` split over the (provider, kind) pairs, the remainder to the first ones.
///
/// Two collections are answered whole, in one response, and a real account holds few of their
/// resources: Vultr's managed databases (its API has no paging there) and Cloudflare's Pages
/// projects ([cf-go] `SinglePage`). Past a few thousand either listing would pass the client's
/// 4 MiB response cap, so their share is capped ([`CAPS`]) and the rest goes to the other pairs.
pub fn spread(total: usize) -> Vec<(ProviderKind, Kind, SbKind, usize)> {
    let share = total / PAIRS.len();
    let capped = |p: ProviderKind, k: Kind| {
        CAPS.iter()
            .find(|(q, j, _)| (*q, *j) == (p, k))
            .map(|(_, _, max)| share.min(*max))
    };
    let fixed: usize = PAIRS.iter().filter_map(|(p, k, _)| capped(*p, *k)).sum();
    let others = PAIRS.len() - CAPS.len();
    let rest = total - fixed;
    let mut i = 0;
    PAIRS
        .iter()
        .map(|(p, k, s)| {
            let n = capped(*p, *k).unwrap_or_else(|| {
                let n = rest / others + usize::from(i < rest % others);
                i += 1;
                n
            });
            (*p, *k, *s, n)
        })
        .collect()
}

/// The most Vultr managed databases a fleet of the benchmark holds (see [`spread`]).
pub const VULTR_DATABASES_MAX: usize = 2_000;

/// The most Cloudflare Pages projects a fleet of the benchmark holds (see [`spread`]): the
/// sandbox renders one with its latest and canonical deployments in over 4 KB (a thousand passed
/// the 4 MiB cap at 100,000 resources), so five hundred stay inside it with room.
pub const PAGES_PROJECTS_MAX: usize = 500;

/// The pairs whose share [`spread`] caps, with their caps.
pub const CAPS: [(ProviderKind, Kind, usize); 2] = [
    (ProviderKind::Vultr, Kind::Databases, VULTR_DATABASES_MAX),
    (
        ProviderKind::Cloudflare,
        Kind::WebServices,
        PAGES_PROJECTS_MAX,
    ),
];

/// How the sandbox behaves.
#[derive(Debug, Clone, Copy)]
pub struct SandboxSetup {
    /// Added to every request.
    pub latency: Duration,
    /// Enforce the providers' published rate limits (Vultr 30/s, DigitalOcean 250/min, Linode
    /// instance creates 20 per 15 s).
    pub published_limits: bool,
    /// Polls a new resource stays pending for.
    pub pending_polls: u32,
}

/// Starts a sandbox (no fixtures).
pub async fn sandbox(setup: SandboxSetup) -> anyhow::Result<SandboxHandle> {
    let sandbox = Sandbox::start(
        SandboxConfig::default()
            .with_pending_polls(setup.pending_polls)
            .with_action_polls(setup.pending_polls),
    )
    .await
    .context("starting the provider sandbox")?;
    sandbox.set_latency(setup.latency);
    if setup.published_limits {
        enforce_published_limits(&sandbox);
    }
    Ok(sandbox)
}

/// The providers' published rate limits, from now on (Vultr 30/s, DigitalOcean 250/min, Linode
/// instance creates 20 per 15 s).
pub fn enforce_published_limits(sandbox: &SandboxHandle) {
    sandbox.set_rate_limit(Provider::Vultr, RateLimit::vultr_published());
    sandbox.set_rate_limit(Provider::Digitalocean, RateLimit::digitalocean_published());
    sandbox.set_rate_limit(Provider::Linode, RateLimit::linode_instance_create());
}

/// Lists the whole fleet once, through docks and a store of its own, so the sandbox has rendered
/// every object: a provider's API servers are warm and do that work on their own CPUs, while the
/// sandbox shares the measured client's two cores. Nothing of the measured sync is reused.
pub async fn warm(config: &Config) -> anyhow::Result<()> {
    let docks = docks(config, PollPolicy::fast()).await?;
    let store = memory_store()?;
    let report = stackdock_engine::sync(
        config,
        &docks,
        store.as_ref(),
        &stackdock_engine::SyncOptions::default(),
    )
    .await?;
    if let Some(d) = report.failed().next() {
        anyhow::bail!(
            "the warm-up listing failed: dock `{}`: {}",
            d.dock,
            d.error.as_deref().unwrap_or("no error recorded")
        );
    }
    Ok(())
}

/// The listings a seeded spread makes, for the bounds.
pub fn listings(spread: &[(ProviderKind, Kind, SbKind, usize)]) -> Vec<crate::bounds::Listing> {
    crate::bounds::listings(
        &spread
            .iter()
            .map(|(p, k, _, n)| (*p, *k, *n))
            .collect::<Vec<_>>(),
    )
}

/// Seeds `total` generated resources spread over every pair; returns the spread.
pub fn seed(
    sandbox: &SandboxHandle,
    total: usize,
) -> anyhow::Result<Vec<(ProviderKind, Kind, SbKind, usize)>> {
    let spread = spread(total);
    for (p, _, s, n) in &spread {
        sandbox
            .seed_bulk(sandbox_provider(*p), *s, *n)
            .with_context(|| format!("seeding {n} {s:?} on {p}"))?;
    }
    Ok(spread)
}

/// One dock per provider, at `base` (the sandbox's URL), with `resources`.
pub fn config(base: &str, resources: Vec<DesiredResource>) -> Config {
    let docks = ProviderKind::ALL
        .into_iter()
        .map(|p| {
            let name = dock_name(p).to_owned();
            let dock = DockConfig {
                name: name.clone(),
                provider: p,
                credentials: CredentialRef::Env(format!("{}_TOKEN", p.as_str().to_uppercase())),
                endpoint: Some(format!("{base}{}", sandbox_provider(p).prefix())),
                regions: None,
                settings: settings(p),
            };
            (name, dock)
        })
        .collect();
    Config {
        settings: Settings {
            org: ORG.into(),
            prune: false,
            drift: DriftMode::Flag,
            table_prefix: "stackdock".into(),
            schedule: None,
        },
        docks,
        resources,
        notify: None,
    }
}

/// The sandbox's Cloudflare account, the bench dock's `account_id` (R2 and D1 live under it).
pub const CLOUDFLARE_ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";

/// The provider settings of the bench's dock of `p`.
fn settings(p: ProviderKind) -> DockSettings {
    match p {
        ProviderKind::Cloudflare => DockSettings::from_iter([(
            "account_id".to_owned(),
            FieldValue::from(CLOUDFLARE_ACCOUNT),
        )]),
        _ => DockSettings::default(),
    }
}

/// The real adapters with each provider's sandbox token.
pub async fn docks(config: &Config, poll: PollPolicy) -> anyhow::Result<Docks> {
    let tokens = StaticResolver(
        ProviderKind::ALL
            .into_iter()
            .map(|p| (p, Credential::new(sandbox_provider(p).default_token())))
            .collect::<BTreeMap<_, _>>(),
    );
    let docks = Docks::build(
        config,
        &tokens,
        &Adapters {
            tuning: Tuning { poll },
        },
    )
    .await;
    anyhow::ensure!(
        docks.failures.is_empty(),
        "docks failed to build: {:?}",
        docks.failures
    );
    Ok(docks)
}

/// A fresh in-memory SQLite store.
pub fn memory_store() -> anyhow::Result<Arc<dyn Store>> {
    Ok(Arc::new(
        SqliteStore::open_in_memory().context("opening the in-memory store")?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spread_holds_every_resource_and_caps_the_whole_listings() {
        for total in [1_000, 10_000, 100_000, 100_003] {
            let spread = spread(total);
            assert_eq!(spread.iter().map(|s| s.3).sum::<usize>(), total);
            for (p, k, max) in CAPS {
                let n = spread
                    .iter()
                    .find(|s| (s.0, s.1) == (p, k))
                    .map_or(0, |s| s.3);
                assert_eq!(n, (total / PAIRS.len()).min(max), "{p:?} {k:?} of {total}");
            }
        }
        // Under the caps the pairs share evenly, as the pinned request counts assume.
        assert!(spread(7_500).iter().all(|s| s.3 == 500));
    }

    #[test]
    fn the_sandbox_speaks_every_provider_by_its_config_name() {
        for p in ProviderKind::ALL {
            assert_eq!(sandbox_provider(p).name(), p.as_str());
        }
    }
}
