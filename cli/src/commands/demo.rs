//! `stackdock demo`: the whole loop, offline, against the provider sandbox and a fresh embedded
//! store, showing each step — sync, plan, apply, plan (no changes), an out-of-band change at a
//! provider, sync, drift.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use stackdock_core::config::Config;
use stackdock_core::plan::ActionKind;
use stackdock_core::{Kind, ProviderKind, render};
use stackdock_engine::{Adapters, ApplyOptions, StaticResolver, apply};
use stackdock_providers::wait::PollPolicy;
use stackdock_providers::{Credential, Tuning};
use stackdock_sandbox::{Change, Mutation, Provider, Sandbox, SandboxConfig, SandboxHandle};
use stackdock_store::sqlite::SqliteStore;

use crate::args::{Cli, DemoArgs};
use crate::context::{self, Session};

pub async fn run(cli: &Cli, args: &DemoArgs) -> anyhow::Result<u8> {
    let mut config = context::load_config(&cli.config)?;
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .context("cannot start the provider sandbox")?;
    sandbox.seed_fixtures();
    point_at(&mut config, &sandbox);
    let result = walk(cli, args, config, &sandbox).await;
    sandbox.shutdown().await;
    result
}

/// Every dock's endpoint replaced by the sandbox's.
pub fn point_at(config: &mut Config, sandbox: &SandboxHandle) {
    for dock in config.docks.values_mut() {
        dock.endpoint = Some(sandbox.base_url(sandbox_provider(dock.provider)));
    }
}

pub fn sandbox_provider(p: ProviderKind) -> Provider {
    // The sandbox names each provider as `stackdock.toml` does (`ProviderKind::as_str`).
    p.as_str()
        .parse()
        .unwrap_or_else(|e| panic!("the sandbox speaks every provider StackDock has: {e}"))
}

/// Each provider's sandbox token.
pub fn sandbox_tokens(sandbox: &SandboxHandle) -> StaticResolver {
    StaticResolver(
        ProviderKind::ALL
            .into_iter()
            .map(|p| (p, Credential::new(sandbox.token(sandbox_provider(p)))))
            .collect(),
    )
}

fn step(n: usize, title: &str) {
    println!("\n\u{2500}\u{2500} {n}. {title}\n");
}

async fn walk(
    cli: &Cli,
    args: &DemoArgs,
    config: Config,
    sandbox: &SandboxHandle,
) -> anyhow::Result<u8> {
    if args.demo_store.exists() {
        std::fs::remove_file(&args.demo_store).with_context(|| {
            format!(
                "cannot remove the old demo store {}",
                args.demo_store.display()
            )
        })?;
    }
    let store = Arc::new(
        SqliteStore::open(&args.demo_store)
            .with_context(|| format!("cannot open {}", args.demo_store.display()))?,
    );
    let adapters = Adapters {
        tuning: Tuning {
            poll: PollPolicy::fast(),
        },
    };
    let session = Session::with(
        config,
        &cli.config,
        store,
        &sandbox_tokens(sandbox),
        &adapters,
    )
    .await;
    let text = |plan: &stackdock_core::plan::Plan| {
        render::text::render(
            plan,
            &render::text::TextOptions {
                color: crate::output::color(cli.no_color),
                show_unmanaged: false,
            },
        )
    };
    println!(
        "StackDock demo: {} against the local provider sandbox ({}), store {}",
        cli.config.display(),
        sandbox.url(),
        args.demo_store.display()
    );

    step(1, "sync: list every dock's whole inventory into the store");
    let report = session.refresh().await?;
    for d in &report.docks {
        println!(
            "  {:<12} {} listed, {} written",
            d.dock, d.listed, d.stats.written
        );
    }

    step(2, "plan: stackdock.toml against what the providers report");
    let plan = super::plan::current(&session).await?;
    print!("{}", text(&plan));
    if plan.summary.error > 0 || plan.summary.blocked > 0 {
        bail!("the demo plan has errors or blocked docks; see above");
    }

    step(3, "apply: call the provider APIs, recording each step");
    let mut opts = ApplyOptions::new("demo", "demo", context::config_dir(&cli.config));
    opts.progress = Some(Arc::new(|line: &str| println!("  {line}")));
    let applied = apply(
        &plan,
        &session.config,
        &session.docks,
        session.store.as_ref(),
        &opts,
    )
    .await?;
    println!("  run {}: {:?}", applied.run.run_id, applied.run.status);

    step(4, "sync and plan again: nothing left to do");
    session.refresh().await?;
    let again = super::plan::current(&session).await?;
    print!("{}", text(&again));

    step(
        5,
        "out-of-band changes: someone resizes a server, edits a DNS record and switches a site's framework in the consoles",
    );
    let Some(server) = session
        .config
        .resources
        .iter()
        .find(|r| r.kind == Kind::Servers)
    else {
        bail!("the config has no server to change out of band");
    };
    let provider = session
        .config
        .docks
        .get(server.dock.as_str())
        .map(|d| d.provider)
        .unwrap_or(ProviderKind::Vultr);
    let bigger = match provider {
        ProviderKind::Vultr => "vc2-2c-4gb",
        ProviderKind::DigitalOcean => "s-2vcpu-2gb",
        ProviderKind::Linode => "g6-standard-1",
        // A demo server is on a server provider; Vercel and Cloudflare have none.
        ProviderKind::Vercel | ProviderKind::Cloudflare => bail!(
            "server `{}` is on a {} dock, which has no servers",
            server.name,
            provider
        ),
    };
    sandbox
        .mutate(Mutation::new(
            sandbox_provider(provider),
            stackdock_sandbox::Kind::Instance,
            server.name.clone(),
            Change::SetPlan {
                plan: bigger.into(),
            },
        ))
        .context("changing the server in the sandbox")?;
    println!("  {} ({provider}) now runs plan {bigger}", server.address());
    change_a_record(&session, sandbox).await?;
    change_a_web_service(&session, sandbox)?;

    step(6, "sync, then drift: what changed outside StackDock");
    session.refresh().await?;
    let drifted = super::plan::current(&session).await?;
    for a in drifted.of_kind(ActionKind::Drift) {
        for c in &a.changes {
            let show = |v: &Option<stackdock_core::FieldValue>| {
                v.as_ref().map_or("(none)".to_owned(), ToString::to_string)
            };
            println!(
                "  ! {} {}: applied {} -> now {}",
                a.address.as_deref().unwrap_or("?"),
                c.field,
                show(&c.before),
                show(&c.after)
            );
        }
    }
    println!(
        "\nDrift: {} resource(s). `stackdock apply` would restore stackdock.toml; with drift = \"remediate\" the scheduled sync does.",
        drifted.summary.drift
    );
    println!(
        "Inspect the universal tables: sqlite3 {} 'select name, status, region from servers'",
        args.demo_store.display()
    );
    Ok(if again.has_changes() || drifted.summary.drift == 0 {
        1
    } else {
        0
    })
}

/// The out-of-band edit of a web service: the framework preset of the first Vercel project whose
/// entry sets one, switched in Vercel's dashboard. Nothing to do when the file declares none.
fn change_a_web_service(session: &Session, sandbox: &SandboxHandle) -> anyhow::Result<()> {
    let Some((entry, framework)) = session.config.resources.iter().find_map(|r| {
        let on_vercel = session
            .config
            .docks
            .get(r.dock.as_str())
            .is_some_and(|d| d.provider == ProviderKind::Vercel);
        (r.kind == Kind::WebServices && on_vercel)
            .then(|| r.str_field("framework"))
            .flatten()
            .map(|f| (r, f))
    }) else {
        return Ok(());
    };
    let other = if framework == "astro" {
        "vite"
    } else {
        "astro"
    };
    sandbox
        .mutate(Mutation::new(
            Provider::Vercel,
            stackdock_sandbox::Kind::WebService,
            entry.name.clone(),
            // A project's "plan" in the sandbox's out-of-band API is its framework preset.
            Change::SetPlan { plan: other.into() },
        ))
        .context("changing the project in the sandbox")?;
    println!(
        "  {} (vercel) now builds as framework {other} (was {framework})",
        entry.address()
    );
    Ok(())
}

/// The out-of-band edit of a DNS record: the TTL of the first record whose entry sets one,
/// lowered in the provider's console (a record's id is `<zone>/<record id>`; the sandbox knows
/// the record id). Nothing to do when the file declares no such record.
async fn change_a_record(session: &Session, sandbox: &SandboxHandle) -> anyhow::Result<()> {
    let Some(entry) = session
        .config
        .resources
        .iter()
        .find(|r| r.kind == Kind::DomainRecords && r.fields.contains_key("ttl"))
    else {
        return Ok(());
    };
    let org = &session.config.settings.org;
    let address = entry.address();
    let inventory = session.store.inventory(org, None).await?;
    let Some(record) = inventory
        .iter()
        .find(|r| r.managed_by.as_deref() == Some(address.as_str()))
    else {
        bail!("{address} was applied but is not in the store");
    };
    let id = record
        .provider_resource_id
        .rsplit('/')
        .next()
        .unwrap_or_default();
    sandbox
        .mutate(Mutation::new(
            sandbox_provider(record.provider),
            stackdock_sandbox::Kind::DomainRecord,
            id,
            Change::SetTtl { ttl: 60 },
        ))
        .context("changing the DNS record in the sandbox")?;
    println!("  {address} ({}) now has a TTL of 60 s", record.provider);
    Ok(())
}
