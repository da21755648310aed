//! The failure modes every adapter meets the same way, checked for each provider from one table: a
//! pagination loop, a 429 storm, a rejected token and a readiness wait that runs out, with exact
//! request counts. What is particular to one provider's failures stays in its module.

use std::sync::Arc;
use std::time::Duration;

use stackdock_core::Kind;
use stackdock_core::plan::ResourceSpec;
use stackdock_providers::{ErrorClass, Provider};
use stackdock_sandbox::{
    Fault, FaultRule, Kind as SandboxKind, Provider as Sandboxed, Sandbox, SandboxConfig,
    SandboxHandle,
};

use super::support::{MAX_ATTEMPTS, READY, refused, request};
use super::{cloudflare, digitalocean, linode, vercel, vultr};

/// What the sandbox holds before a fault is put on a listing.
#[derive(Clone, Copy)]
enum Seed {
    Fixtures,
    Bulk(SandboxKind, usize),
}

/// A listing: the route it asks and the kind it lists.
#[derive(Clone, Copy)]
struct Listing {
    route: &'static str,
    kind: Kind,
}

/// One provider as these checks drive it.
struct Row {
    sandboxed: Sandboxed,
    /// The adapter of the provider's test dock, with a token.
    connect: fn(&SandboxHandle, &str) -> Arc<dyn Provider>,
    /// Where the dock's credential is read from, as an error names it.
    source: &'static str,
    /// The route `check_credentials` asks.
    credentials: &'static str,
    /// A listing that loops, and what it lists.
    looping: (Listing, Seed),
    /// A listing that survives a short 429 storm, and how many fixtures it lists.
    stormed: (Listing, usize),
    /// A listing whose 429 storm outlasts the retry policy.
    exhausted: Listing,
    /// The kind a rejected token fails to list.
    listed: Kind,
    /// A server the sandbox creates pending, and an id that names no server; `None` for a
    /// provider with nothing whose readiness waits (Cloudflare: a pending zone is ready).
    slow: Option<Slow>,
}

/// A resource whose readiness waits, for the readiness timeout.
struct Slow {
    /// A server spec the sandbox creates.
    server: fn(&str) -> ResourceSpec,
    /// An id that names no server.
    unknown_server: &'static str,
}

fn rows() -> [Row; 5] {
    let vultr_instances = Listing {
        route: "GET /vultr/v2/instances",
        kind: Kind::Servers,
    };
    let do_volumes = Listing {
        route: "GET /digitalocean/v2/volumes",
        kind: Kind::BlockVolumes,
    };
    let cloudflare_zones = Listing {
        route: cloudflare::LIST_ZONES,
        kind: Kind::Domains,
    };
    let linode_instances = Listing {
        route: linode::LIST_INSTANCES,
        kind: Kind::Servers,
    };
    let vercel_domains = Listing {
        route: "GET /vercel/v5/domains",
        kind: Kind::Domains,
    };
    [
        Row {
            sandboxed: Sandboxed::Vultr,
            connect: vultr::adapter_with_token,
            source: "environment variable VULTR_API_KEY",
            credentials: "GET /vultr/v2/account",
            looping: (vultr_instances, Seed::Bulk(SandboxKind::Instance, 1_200)),
            stormed: (vultr_instances, 3),
            exhausted: Listing {
                route: "GET /vultr/v2/blocks",
                kind: Kind::BlockVolumes,
            },
            listed: Kind::Servers,
            slow: Some(Slow {
                server: vultr::server_spec,
                unknown_server: "00000000-0000-0000-0000-000000000000",
            }),
        },
        Row {
            sandboxed: Sandboxed::Digitalocean,
            connect: digitalocean::adapter_with_token,
            source: "environment variable DIGITALOCEAN_TOKEN",
            credentials: "GET /digitalocean/v2/account",
            looping: (do_volumes, Seed::Bulk(SandboxKind::Volume, 450)),
            stormed: (do_volumes, 2),
            exhausted: do_volumes,
            listed: Kind::Servers,
            slow: Some(Slow {
                server: digitalocean::server_spec,
                unknown_server: "999999999",
            }),
        },
        Row {
            sandboxed: Sandboxed::Linode,
            connect: linode::adapter_with_token,
            source: "environment variable LINODE_TOKEN",
            credentials: "GET /linode/v4/profile",
            looping: (linode_instances, Seed::Fixtures),
            stormed: (linode_instances, 3),
            exhausted: Listing {
                route: linode::LIST_VOLUMES,
                kind: Kind::BlockVolumes,
            },
            listed: Kind::Servers,
            slow: Some(Slow {
                server: linode::web_spec,
                unknown_server: "999",
            }),
        },
        Row {
            sandboxed: Sandboxed::Vercel,
            connect: vercel::adapter_with_token,
            source: "environment variable VERCEL_TOKEN",
            credentials: "GET /vercel/v2/user",
            // Projects: the `from` continuation (three pages of 100) answering the token asked.
            looping: (
                Listing {
                    route: "GET /vercel/v10/projects",
                    kind: Kind::WebServices,
                },
                Seed::Bulk(SandboxKind::WebService, 250),
            ),
            stormed: (vercel_domains, 2),
            exhausted: vercel_domains,
            listed: Kind::Domains,
            slow: None,
        },
        Row {
            sandboxed: Sandboxed::Cloudflare,
            connect: cloudflare::adapter_with_token,
            source: "environment variable CLOUDFLARE_API_TOKEN",
            credentials: "GET /cloudflare/client/v4/user/tokens/verify",
            // Three pages of 50.
            looping: (cloudflare_zones, Seed::Bulk(SandboxKind::Domain, 120)),
            stormed: (cloudflare_zones, 1),
            exhausted: Listing {
                route: cloudflare::LIST_RECORDS,
                kind: Kind::DomainRecords,
            },
            listed: Kind::Domains,
            slow: None,
        },
    ]
}

impl Row {
    /// A sandbox of `config` and this provider's adapter with the sandbox's token.
    async fn start(&self, config: SandboxConfig) -> (SandboxHandle, Arc<dyn Provider>) {
        let sandbox = Sandbox::start(config).await.expect("sandbox starts");
        let adapter = (self.connect)(&sandbox, &sandbox.token(self.sandboxed));
        (sandbox, adapter)
    }

    fn who(&self) -> &'static str {
        self.sandboxed.name()
    }
}

#[tokio::test]
async fn a_pagination_loop_is_an_error_not_a_partial_list() {
    for row in rows() {
        let (sandbox, adapter) = row.start(SandboxConfig::default()).await;
        let (listing, seed) = row.looping;
        match seed {
            Seed::Fixtures => sandbox.seed_fixtures(),
            Seed::Bulk(kind, n) => sandbox.seed_bulk(row.sandboxed, kind, n).expect("seed"),
        }
        sandbox.add_fault(FaultRule::new(listing.route, Fault::PaginationLoop));
        let e = refused(adapter.list(listing.kind).await);
        assert_eq!(e.class, ErrorClass::Transient, "{}: {e}", row.who());
        assert!(e.message.contains("incomplete"), "{}: {e}", row.who());
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn a_429_storm_with_retry_after_is_survived_within_bounded_attempts() {
    for row in rows() {
        let who = row.who();
        let (sandbox, adapter) = row.start(SandboxConfig::default()).await;
        sandbox.seed_fixtures();
        let (listing, listed) = row.stormed;
        let storm = Fault::RateLimited {
            retry_after: Some(1),
        };
        sandbox.add_fault(FaultRule::new(listing.route, storm).times(2));
        let records = adapter
            .list(listing.kind)
            .await
            .expect("survives the storm");
        assert_eq!(records.len(), listed, "{who}");
        assert_eq!(sandbox.counters().route(listing.route), 3, "{who}");

        // A storm that never ends fails as rate limited after exactly the policy's attempts.
        sandbox.reset_counters();
        let listing = row.exhausted;
        let storm = Fault::RateLimited {
            retry_after: Some(0),
        };
        sandbox.add_fault(FaultRule::new(listing.route, storm));
        let e = refused(adapter.list(listing.kind).await);
        assert_eq!(e.class, ErrorClass::RateLimited, "{who}: {e}");
        let sent = sandbox.counters().route(listing.route);
        assert_eq!(sent, u64::from(MAX_ATTEMPTS), "{who}");
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn a_rejected_token_names_its_source_not_its_value() {
    for row in rows() {
        let who = row.who();
        let sandbox = Sandbox::start(SandboxConfig::default())
            .await
            .expect("sandbox starts");
        let token = format!("not-the-{who}-token-5f2a9c");
        let adapter = (row.connect)(&sandbox, &token);
        for e in [
            refused(adapter.check_credentials().await),
            refused(adapter.list(row.listed).await),
        ] {
            assert_eq!(e.class, ErrorClass::Unauthorized, "{who}: {e}");
            let text = e.to_string();
            assert!(text.contains(row.source), "{who}: {text}");
            assert!(!text.contains(&token), "{who}: {text}");
        }
        // Not retried: a bad credential does not improve.
        let counters = sandbox.counters();
        assert_eq!(counters.route(row.credentials), 1, "{who}");
        assert_eq!(counters.provider(row.sandboxed), 2, "{who}");
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn wait_ready_gives_up_at_its_timeout_naming_the_status() {
    for row in rows() {
        let who = row.who();
        let Some(slow) = &row.slow else {
            continue;
        };
        let pending = SandboxConfig::default().with_pending_polls(1_000_000);
        let (sandbox, adapter) = row.start(pending).await;
        let spec = (slow.server)("slow-1");
        let created = adapter
            .create(Kind::Servers, request(&spec))
            .await
            .expect("create");
        let id = &created.provider_resource_id;
        let short = Duration::from_millis(50);
        let e = refused(adapter.wait_ready(Kind::Servers, id, short).await);
        assert_eq!(e.class, ErrorClass::Transient, "{who}: {e}");
        assert!(e.message.contains("still `pending`"), "{who}: {e}");
        let e = refused(
            adapter
                .wait_ready(Kind::Servers, slow.unknown_server, READY)
                .await,
        );
        assert_eq!(e.class, ErrorClass::NotFound, "{who}: {e}");
        sandbox.shutdown().await;
    }
}

/// `stackdock docks`: every provider reads its account with the dock's token, and a rejected
/// token is `Unauthorized` there too (what `docks test` tells apart from a network failure). The
/// three providers with an account endpoint report who, what is owed and their limits from the
/// sandbox's fixtures.
#[tokio::test]
async fn the_account_is_read_and_a_rejected_token_is_told_apart() {
    for row in rows() {
        let who = row.who();
        let sandbox = Sandbox::start(SandboxConfig::default())
            .await
            .expect("sandbox starts");
        let account = (row.connect)(&sandbox, row.sandboxed.default_token())
            .account_info()
            .await
            .unwrap_or_else(|e| panic!("{who}: {e}"));
        let expected = match row.sandboxed.name() {
            "vultr" => Some((Some("Sandbox Operations"), Some(-25.5), Some(18.42), vec![])),
            "digitalocean" => Some((
                Some("Sandbox Team"),
                None,
                None,
                vec![
                    ("droplet_limit", 25),
                    ("floating_ip_limit", 5),
                    ("volume_limit", 100),
                ],
            )),
            "linode" => Some((Some("Sandbox Operations"), Some(0.0), Some(14.32), vec![])),
            _ => None,
        };
        if let Some((name, balance, pending, expected_limits)) = expected {
            assert_eq!(account.name.as_deref(), name, "{who}: {account:?}");
            assert_eq!(
                account.email.as_deref(),
                Some("ops@sandbox.example"),
                "{who}"
            );
            assert_eq!(account.balance_usd, balance, "{who}");
            assert_eq!(account.pending_usd, pending, "{who}");
            let limits: Vec<(&str, i64)> = account
                .limits
                .iter()
                .map(|(k, v)| (k.as_str(), *v))
                .collect();
            assert_eq!(limits, expected_limits, "{who}");
        }
        let e = refused(
            (row.connect)(&sandbox, "not-a-token-7c1e")
                .account_info()
                .await,
        );
        assert_eq!(e.class, ErrorClass::Unauthorized, "{who}: {e}");
        sandbox.shutdown().await;
    }
}
