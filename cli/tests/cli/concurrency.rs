//! Two `stackdock` processes at once on one SQLite store: a second apply refuses while the first
//! holds the lease (naming the holder and the expiry); a sync during an apply neither clobbers
//! its intents nor marks its in-flight creates missing; a force-unlock is written to the run log
//! and the apply that lost its lease starts nothing new. Each prints `RELIABILITY concurrency …`.

use std::process::Child;
use std::time::{Duration, Instant};

use stackdock_sandbox::{Fault, FaultRule};

use crate::crash::Setup;
use crate::support::text;

const BOUND: Duration = Duration::from_secs(120);

fn slow_posts(setup: &Setup) {
    setup
        .ws
        .sandbox
        .add_fault(FaultRule::new("POST *", Fault::Latency { ms: 700 }));
}

/// Waits (bounded) for `child` to exit; its exit code.
async fn finish(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + BOUND;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        assert!(Instant::now() < deadline, "the command did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (bounded) until the spawned apply holds the lease; its owner string.
async fn lease_held_by(setup: &Setup, child: &mut Child) -> String {
    let pid = child.id();
    let deadline = Instant::now() + BOUND;
    loop {
        if let Some((owner, _)) = setup.observer.lease().await
            && owner.ends_with(&format!(":{pid}"))
        {
            return owner;
        }
        assert!(
            child.try_wait().ok().flatten().is_none(),
            "the apply ended before taking the lease"
        );
        assert!(Instant::now() < deadline, "the lease was never taken");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Run log bodies of one kind (SQLite).
fn run_bodies(setup: &Setup, kind: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(setup.ws.db_path()).expect("store");
    conn.busy_timeout(Duration::from_secs(5))
        .expect("busy timeout");
    let mut stmt = conn
        .prepare("SELECT body FROM runs WHERE kind = ?1 ORDER BY startedAt")
        .expect("query");
    stmt.query_map([kind], |r| r.get::<_, String>(0))
        .expect("runs")
        .collect::<Result<_, _>>()
        .expect("bodies")
}

/// Managed records marked missing (SQLite).
fn missing_managed(setup: &Setup) -> i64 {
    let conn = rusqlite::Connection::open(setup.ws.db_path()).expect("store");
    conn.busy_timeout(Duration::from_secs(5))
        .expect("busy timeout");
    ["servers", "blockVolumes", "buckets", "databases"]
        .iter()
        .map(|t| {
            conn.query_row(
                &format!(
                    "SELECT count(*) FROM {t} WHERE managedBy IS NOT NULL AND managedBy != '' AND missingSince IS NOT NULL"
                ),
                [],
                |r| r.get::<_, i64>(0),
            )
            .expect("count")
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_apply_refuses_while_the_first_holds_the_lease() {
    let setup = Setup::sqlite().await;
    slow_posts(&setup);
    let mut first = setup.spawn("first", &["apply", "--auto-approve"]);
    let owner = lease_held_by(&setup, &mut first).await;

    let second = setup.run(&["apply", "--auto-approve"]).await;
    let err = text(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("is held by {owner} until")),
        "names the holder and the expiry: {err}"
    );
    assert_eq!(
        finish(&mut first).await,
        Some(0),
        "{:?}",
        setup.ws.output_of("first")
    );
    let miscounted = setup.miscounted();
    assert!(miscounted.is_empty(), "{miscounted:?}");
    eprintln!(
        "RELIABILITY concurrency cli-apply-vs-cli-apply -> the second apply exited 1 naming the holder {owner} and the expiry; the first finished; exactly one of each of the 9 resources"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_during_an_apply_marks_no_in_flight_create_missing() {
    let setup = Setup::sqlite().await;
    slow_posts(&setup);
    let mut apply = setup.spawn("apply", &["apply", "--auto-approve"]);
    let deadline = Instant::now() + BOUND;
    while setup.observer.intents().await.is_empty() {
        assert!(Instant::now() < deadline, "no intent recorded");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Syncs back to back while the creates are in flight and their records are being written.
    let mut syncs = 0;
    while apply.try_wait().ok().flatten().is_none() && syncs < 5 {
        let sync = setup.run(&["sync"]).await;
        assert_eq!(sync.status.code(), Some(0), "{}", text(&sync.stderr));
        syncs += 1;
        assert_eq!(
            missing_managed(&setup),
            0,
            "a sync marked a managed record missing"
        );
    }
    assert_eq!(
        finish(&mut apply).await,
        Some(0),
        "{:?}",
        setup.ws.output_of("apply")
    );
    assert_eq!(missing_managed(&setup), 0);
    let intents = setup.observer.intents().await;
    assert!(intents.is_empty(), "intents left: {intents:?}");
    let miscounted = setup.miscounted();
    assert!(miscounted.is_empty(), "{miscounted:?}");
    let plan = setup.run(&["plan", "--detailed-exitcode"]).await;
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stdout));
    eprintln!(
        "RELIABILITY concurrency cli-sync-during-cli-apply -> {syncs} syncs during the apply: no managed record marked missing, no intent clobbered (none left after the apply), exactly one of each resource, plan empty"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_unlock_is_logged_and_the_apply_that_lost_the_lease_starts_nothing_new() {
    let setup = Setup::sqlite().await;
    slow_posts(&setup);
    let mut apply = setup.spawn("apply", &["apply", "--auto-approve", "--lease-ttl", "3"]);
    let owner = lease_held_by(&setup, &mut apply).await;
    let unlock = setup.run(&["unlock", "--force"]).await;
    assert_eq!(unlock.status.code(), Some(0), "{}", text(&unlock.stderr));
    let logged = run_bodies(&setup, "unlock");
    assert!(
        logged
            .iter()
            .any(|b| b.contains(&format!("force-released the apply lease held by {owner}"))),
        "{logged:?}"
    );
    let code = finish(&mut apply).await;
    let bodies = run_bodies(&setup, "apply");
    let lost = bodies.iter().any(|b| b.contains("lease lost"));
    // Actions the lost lease kept from starting make the apply a failure, not a success.
    if bodies.iter().any(|b| b.contains("did not start")) {
        assert_eq!(code, Some(1), "{bodies:?}");
    }
    // The apply may have finished before its next renewal noticed; either way the store stays
    // consistent and a re-run converges.
    let again = setup.run(&["apply", "--auto-approve"]).await;
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stdout));
    let miscounted = setup.miscounted();
    assert!(miscounted.is_empty(), "{miscounted:?}");
    let intents = setup.observer.intents().await;
    assert!(intents.is_empty(), "intents left: {intents:?}");
    eprintln!(
        "RELIABILITY concurrency force-unlock-during-apply -> the unlock run names the holder {owner}; the apply {} (exit {code:?}); a re-run converged with exactly one of each resource and no intent",
        if lost {
            "logged `lease lost` and started nothing new"
        } else {
            "finished before its next renewal"
        }
    );
}
