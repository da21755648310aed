//! The benchmark's deterministic counts, pinned so a regression fails CI: a complete sync makes
//! exactly the lower bound of requests, an unchanged re-sync writes nothing, and a 1% change
//! writes exactly the changed records. (Times are never asserted.)

use std::time::Duration;

use stackdock_bench::bounds;
use stackdock_bench::scenarios::{resync, sync};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_makes_exactly_the_lower_bound_of_requests() {
    for total in [8, 2_000, 4_100] {
        let run = sync::run(total, Duration::ZERO, false).await.expect("sync");
        // Every seeded resource, and per DNS provider the zone its generated records live in
        // (DigitalOcean, Cloudflare, Vercel: none where the spread gave it no records).
        let of_kind = |kind| {
            run.listings
                .iter()
                .filter(move |l| l.kind == kind)
                .map(|l| l.items)
        };
        let zones: usize = of_kind(stackdock_core::Kind::Domains).sum();
        let with_records = of_kind(stackdock_core::Kind::DomainRecords)
            .filter(|n| *n > 0)
            .count();
        assert_eq!(zones, with_records, "{total} resources");
        assert_eq!(total > 100, zones == 3, "{total} resources");
        assert_eq!(run.listed, total + zones);
        assert_eq!(
            run.requests,
            bounds::sync_requests(&run.listings) as u64,
            "{total} resources"
        );
        let row = sync::requests_row(&run);
        assert_eq!(row.ok, Some(true));
        // Each dock at its own bound, Cloudflare's and Vercel's included.
        for (p, requests) in &run.per_provider {
            assert_eq!(
                *requests,
                bounds::requests_of(&run.listings, *p) as u64,
                "{p:?} at {total} resources"
            );
        }
        assert_eq!(sync::provider_rows(&run).len(), 5);
        // The wall row names the dock that finished last, one of the fleet's.
        let (last, _) = run.last.as_ref().expect("a dock finished last");
        assert!(
            stackdock_core::ProviderKind::ALL
                .iter()
                .any(|p| stackdock_bench::fleet::dock_name(*p) == last),
            "{last}"
        );
        let wall = sync::wall_row(&run, Duration::ZERO);
        assert!(wall.note.contains(&format!("`{last}`")), "{}", wall.note);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resync_writes_only_what_changed() {
    let store = stackdock_bench::fleet::memory_store().expect("store");
    let r = resync::run(2_000, Duration::ZERO, store, || 0)
        .await
        .expect("resync");
    assert_eq!(
        r.unchanged_writes, 0,
        "an unchanged inventory writes nothing"
    );
    assert_eq!(r.changed, 20);
    assert_eq!(
        r.changed_writes, 20,
        "exactly the changed records are written"
    );
}

/// The fanout child syncs exactly its one dock's inventory, whatever the fleet's size (its peak
/// RSS is the figure; here only what it syncs is pinned).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fanout_invocation_syncs_its_one_dock_in_any_fleet() {
    let sandbox = stackdock_bench::fleet::sandbox(stackdock_bench::fleet::SandboxSetup {
        latency: Duration::ZERO,
        published_limits: false,
        pending_polls: 0,
    })
    .await
    .expect("sandbox");
    sandbox
        .seed_bulk(
            stackdock_sandbox::Provider::Vultr,
            stackdock_sandbox::Kind::Instance,
            120,
        )
        .expect("seed");
    for docks in [1, 50] {
        let f = stackdock_bench::scenarios::fanout::measure(&sandbox.url(), docks)
            .await
            .expect("fanout");
        assert_eq!(f.docks, docks);
        assert_eq!(f.listed, 120, "{docks} docks");
    }
    sandbox.shutdown().await;
}

/// The fanout wall-time fleet syncs every dock through the Map's concurrency, each listing its
/// whole inventory (the time itself is only reported).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fanout_fleet_syncs_every_dock_at_the_maps_concurrency() {
    use stackdock_bench::scenarios::fanout_wall;
    let w = fanout_wall::run(7, 30, 3, Duration::ZERO)
        .await
        .expect("fanout fleet");
    assert_eq!((w.docks, w.per_dock, w.concurrency), (7, 30, 3));
    // ⌈7 / 3⌉ rounds of the slowest dock.
    assert_eq!(w.bound(), w.slowest * 3);
    let row = fanout_wall::row(&w);
    assert_eq!(row.name, "fanout/wall/7docks");
    assert_eq!(row.target.as_deref(), Some("ratio ≤ 1.3"));
}
