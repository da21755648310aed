//! apply-creates: 100 servers created across the three providers, each pending for a few polls
//! before it runs. The bound per provider: its create rate limit (Linode: 20 per 15 s), its
//! request rate for the creates and the polls (Vultr: 30/s), and the latency of one create plus
//! the polls that see it ready — creates and readiness waits overlapping; the bound is the slowest
//! provider's.

use std::time::{Duration, Instant};

use serde_json::json;
use stackdock_core::config::DesiredResource;
use stackdock_core::{FieldValue, Kind, ProviderKind};
use stackdock_engine::{ApplyOptions, PlanOptions, SyncOptions, apply, plan_current, sync};
use stackdock_providers::wait::PollPolicy;
use stackdock_store::Outcome;

use crate::bounds::rate_delay;
use crate::fleet::{self, SandboxSetup};
use crate::report::Row;
use crate::scenarios::sync::ms;

/// The providers the servers are spread over, in `ProviderKind::ALL` order.
fn with_servers() -> Vec<ProviderKind> {
    ProviderKind::ALL
        .into_iter()
        .filter(|p| p.supports(Kind::Servers))
        .collect()
}

fn server(i: usize, provider: ProviderKind) -> DesiredResource {
    let (region, plan, image) = match provider {
        ProviderKind::Vultr => ("ewr", "vc2-1c-1gb", "os:2284"),
        ProviderKind::DigitalOcean => ("nyc3", "s-1vcpu-1gb", "ubuntu-24-04-x64"),
        ProviderKind::Linode => ("us-east", "g6-nanode-1", "linode/ubuntu24.04"),
        ProviderKind::Vercel | ProviderKind::Cloudflare => {
            unreachable!("servers are created on the server providers: see `with_servers`")
        }
    };
    DesiredResource {
        kind: Kind::Servers,
        name: format!("app-{i:03}").into(),
        dock: fleet::dock_name(provider).into(),
        protect: false,
        id: None,
        ignore_changes: Default::default(),
        allow_replace: false,
        fields: [
            ("region", FieldValue::from(region)),
            ("plan", plan.into()),
            ("image", image.into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.into(), v))
        .collect(),
    }
}

/// The bound for `creates` servers on `provider` when each needs `requests_each` requests
/// (the create and the polls) in sequence.
pub fn bound(
    provider: ProviderKind,
    creates: usize,
    requests_each: usize,
    latency: Duration,
) -> Duration {
    let path = latency * requests_each as u32;
    let limited = match provider {
        ProviderKind::Linode => rate_delay(creates, 20, Duration::from_secs(15)),
        ProviderKind::Vultr => rate_delay(creates * requests_each, 30, Duration::from_secs(1)),
        ProviderKind::DigitalOcean => {
            rate_delay(creates * requests_each, 250, Duration::from_secs(60))
        }
        // No servers: nothing to create here.
        ProviderKind::Vercel | ProviderKind::Cloudflare => Duration::ZERO,
    };
    limited + path
}

pub async fn run(servers: usize, latency: Duration, pending_polls: u32) -> anyhow::Result<Row> {
    let sandbox = fleet::sandbox(SandboxSetup {
        latency,
        published_limits: true,
        pending_polls,
    })
    .await?;
    let resources: Vec<DesiredResource> = (0..servers)
        .map(|i| {
            let hosts = with_servers();
            server(i, hosts[i % hosts.len()])
        })
        .collect();
    let config = fleet::config(&sandbox.url(), resources);
    // Poll about as often as a request takes: a client cannot learn sooner.
    let docks = fleet::docks(
        &config,
        PollPolicy {
            initial: latency,
            max: latency * 2,
        },
    )
    .await?;
    let store = fleet::memory_store()?;
    sync(&config, &docks, store.as_ref(), &SyncOptions::default()).await?;
    let plan = plan_current(&config, &docks, store.as_ref(), PlanOptions::default()).await?;
    anyhow::ensure!(
        plan.summary.create == servers,
        "planned {} creates",
        plan.summary.create
    );
    sandbox.reset_counters();
    let mut opts = ApplyOptions::new("bench", "bench", ".");
    opts.concurrency = 32;
    let started = Instant::now();
    let report = apply(&plan, &config, &docks, store.as_ref(), &opts).await?;
    let wall = started.elapsed();
    let requests = sandbox.counters().total;
    sandbox.shutdown().await;
    let failed = report
        .run
        .actions
        .iter()
        .filter(|a| a.outcome != Outcome::Succeeded)
        .count();
    anyhow::ensure!(
        failed == 0,
        "{failed} creates failed: {:?}",
        report
            .run
            .actions
            .iter()
            .find(|a| a.outcome != Outcome::Succeeded)
    );

    // One create, then polls until the pending status clears, then the poll that sees it ready.
    let requests_each = 1 + pending_polls as usize + 1;
    let hosts = with_servers();
    let per_provider: Vec<(ProviderKind, usize, Duration)> = hosts
        .iter()
        .copied()
        .enumerate()
        .map(|(i, p)| {
            let n = (i..servers).step_by(hosts.len()).count();
            (p, n, bound(p, n, requests_each, latency))
        })
        .collect();
    let (slowest, _, lower) = per_provider
        .iter()
        .copied()
        .max_by_key(|(_, _, b)| *b)
        .unwrap_or((ProviderKind::Vultr, 0, latency));
    Ok(Row::new(format!("apply-creates/{servers}"), ms(wall), ms(lower), "ms")
        .ratio_at_most(1.5)
        .note(format!("bound set by {slowest} (create rate limit, request rate, {pending_polls} pending polls at {} ms)", latency.as_millis()))
        .counts(json!({
            "servers": servers,
            "requests": requests,
            "bounds_ms": per_provider.iter().map(|(p, n, b)| json!({ "provider": p.as_str(), "creates": n, "bound_ms": ms(*b) })).collect::<Vec<_>>(),
        })))
}
