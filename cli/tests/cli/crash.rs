//! Crash safety of `stackdock apply`: the real binary is SIGKILLed at points chosen by watching the
//! outside world — the store's intents, records and runs, the sandbox's request counters and
//! resources; there is no hook in the product — while the sandbox delays every POST. Then, once
//! the killed apply's lease expired (or after `unlock --force`), apply runs again and must leave
//! exactly the desired resources (one of each, by label), no intent, the killed run `running` and
//! the next `succeeded` in the run log. Each point prints `RELIABILITY crash <point> -> <result>`.

use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use stackdock_sandbox::{Fault, FaultRule, Kind as SbKind, Provider};
use stackdock_store::testing::{MotoServer, REGION, unique_prefix};
use stackdock_store::{DynamoStore, Store};

use crate::support::{Workspace, text};

const ORG: &str = "acme";
const LEASE: &str = "apply/acme";
/// The killed apply's lease: short, so the next apply can take over soon after.
const LEASE_TTL_SECS: &str = "4";
/// Every POST is held this long by the sandbox before it is handled: room to kill in between.
const POST_LATENCY_MS: u64 = 700;
/// How long a kill point may take to be reached (generous: a loaded CI machine).
const POINT_BOUND: Duration = Duration::from_secs(120);

/// The example fleet, by provider, sandbox kind and label.
pub const FLEET: [(Provider, SbKind, &str); 13] = [
    (Provider::Vultr, SbKind::Instance, "web-1"),
    (Provider::Vultr, SbKind::Instance, "web-2"),
    (Provider::Digitalocean, SbKind::Instance, "worker-1"),
    (Provider::Linode, SbKind::Instance, "monitor-1"),
    (Provider::Vultr, SbKind::Database, "app-db"),
    (Provider::Linode, SbKind::Bucket, "acme-assets"),
    (Provider::Vultr, SbKind::Volume, "web-1-data"),
    (Provider::Digitalocean, SbKind::Volume, "worker-scratch"),
    (Provider::Linode, SbKind::Volume, "monitor-data"),
    // Cloudflare R2 buckets and D1 (found again by name after a lost answer) and the Vercel
    // project (by name, which is unique in the account).
    (Provider::Cloudflare, SbKind::Bucket, "acme-static"),
    (Provider::Cloudflare, SbKind::Bucket, "acme-eu-backups"),
    (Provider::Cloudflare, SbKind::Database, "acme-sessions"),
    (Provider::Vercel, SbKind::WebService, "acme-site"),
];

/// Where a kill happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    /// An intent is recorded (the create may not be sent yet).
    Intent,
    /// The create of web-1 reached the provider; its answer is still held back.
    RequestSent,
    /// web-1 exists at the provider; the store may not know it yet.
    Response,
    /// The first managed record was just written.
    MidWrite,
    /// The servers are done and a volume's create is under way (its intent is recorded).
    LaterStage,
}

impl Point {
    fn name(self) -> &'static str {
        match self {
            Point::Intent => "after-intent-recorded",
            Point::RequestSent => "after-create-request-sent",
            Point::Response => "after-create-response",
            Point::MidWrite => "mid-write-first-record",
            Point::LaterStage => "later-stage-volume-intent",
        }
    }
}

/// Reads a store from outside the CLI process.
pub enum Observer {
    /// The SQLite file, read with rusqlite.
    Sqlite(PathBuf),
    /// DynamoDB tables on moto.
    Dynamo(Box<DynamoStore>),
}

/// `(run id, kind, status)`, oldest first.
pub type Run = (String, String, String);

/// `Apply` → `apply`, `Running` → `running`: the stored labels.
fn label<T: std::fmt::Debug>(v: &T) -> String {
    format!("{v:?}").to_lowercase()
}

impl Observer {
    fn sqlite<T>(
        path: &PathBuf,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Option<T> {
        if !path.exists() {
            return None;
        }
        let conn = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ok()?;
        conn.busy_timeout(Duration::from_secs(5)).ok()?;
        f(&conn).ok()
    }

    /// Addresses with an unresolved create intent.
    pub async fn intents(&self) -> Vec<String> {
        match self {
            Observer::Sqlite(path) => Self::sqlite(path, |c| {
                let mut stmt = c.prepare("SELECT address FROM intents")?;
                stmt.query_map([], |r| r.get::<_, String>(0))?.collect()
            })
            .unwrap_or_default(),
            Observer::Dynamo(store) => store
                .intents(ORG)
                .await
                .map(|i| i.into_iter().map(|i| i.address).collect())
                .unwrap_or_default(),
        }
    }

    /// Records that belong to a config entry.
    pub async fn managed(&self) -> usize {
        match self {
            Observer::Sqlite(path) => Self::sqlite(path, |c| {
                let mut n = 0;
                for table in ["servers", "blockVolumes", "buckets", "databases"] {
                    n += c.query_row(
                        &format!(
                            "SELECT count(*) FROM {table} WHERE managedBy IS NOT NULL AND managedBy != ''"
                        ),
                        [],
                        |r| r.get::<_, i64>(0),
                    )?;
                }
                Ok(usize::try_from(n).unwrap_or(0))
            })
            .unwrap_or(0),
            Observer::Dynamo(store) => store
                .inventory(ORG, None)
                .await
                .map(|rs| rs.iter().filter(|r| r.managed_by.is_some()).count())
                .unwrap_or(0),
        }
    }

    /// The run log, oldest first.
    pub async fn runs(&self) -> Vec<Run> {
        match self {
            Observer::Sqlite(path) => Self::sqlite(path, |c| {
                let mut stmt =
                    c.prepare("SELECT runId, kind, status FROM runs ORDER BY startedAt")?;
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .unwrap_or_default(),
            Observer::Dynamo(store) => {
                let mut runs: Vec<Run> = store
                    .list_runs(ORG, 100)
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| (r.run_id, label(&r.kind), label(&r.status)))
                    .collect();
                runs.reverse();
                runs
            }
        }
    }

    /// The apply lease's holder and expiry, expired or not.
    pub async fn lease(&self) -> Option<(String, Timestamp)> {
        match self {
            Observer::Sqlite(path) => Self::sqlite(path, |c| {
                c.query_row(
                    "SELECT owner, expiresAt FROM locks WHERE name = ?1",
                    [LEASE],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
                )
            })
            .and_then(|(owner, at)| Some((owner, at.parse().ok()?))),
            Observer::Dynamo(store) => store
                .current_lease(LEASE)
                .await
                .ok()
                .flatten()
                .map(|l| (l.owner, l.expires_at)),
        }
    }
}

/// A workspace plus the store the CLI uses and a way to watch it.
pub struct Setup {
    pub ws: Workspace,
    /// `--store …` and any environment it needs.
    pub store_args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub observer: Observer,
    /// Kept alive for the DynamoDB runs.
    _moto: Option<MotoServer>,
    pub backend: &'static str,
}

impl Setup {
    pub async fn sqlite() -> Setup {
        let ws = Workspace::new().await;
        let db = ws.db_path();
        Setup {
            store_args: vec!["--store".into(), format!("sqlite:{}", db.display())],
            env: Vec::new(),
            observer: Observer::Sqlite(db),
            ws,
            _moto: None,
            backend: "sqlite",
        }
    }

    pub async fn dynamodb() -> Setup {
        let ws = Workspace::new().await;
        let moto = MotoServer::start();
        let prefix = unique_prefix("crash");
        let env: Vec<(String, String)> = [
            ("AWS_ENDPOINT_URL", moto.endpoint()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", REGION.into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let store_args = vec!["--store".to_owned(), format!("dynamodb://{prefix}")];
        let mut args: Vec<&str> = store_args.iter().map(String::as_str).collect();
        args.extend(["tables", "create"]);
        let created = ws.run_with(&env, &args).await;
        assert_eq!(
            created.status.code(),
            Some(0),
            "tables create: {}",
            text(&created.stderr)
        );
        let store = DynamoStore::new(moto.dynamo_client(), &prefix).expect("store");
        Setup {
            ws,
            store_args,
            env,
            observer: Observer::Dynamo(Box::new(store)),
            _moto: Some(moto),
            backend: "dynamodb",
        }
    }

    /// `stackdock --store … <args>`.
    pub fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all: Vec<&str> = self.store_args.iter().map(String::as_str).collect();
        all.extend_from_slice(args);
        all
    }

    pub async fn run(&self, args: &[&str]) -> std::process::Output {
        self.ws.run_with(&self.env, &self.args(args)).await
    }

    pub fn spawn(&self, tag: &str, args: &[&str]) -> Child {
        self.ws.spawn(tag, &self.env, &self.args(args))
    }

    /// Labels of the example fleet not present exactly once at the provider.
    pub fn miscounted(&self) -> Vec<String> {
        FLEET
            .iter()
            .filter_map(|(p, k, label)| {
                let n = self
                    .ws
                    .sandbox
                    .resources(*p, *k)
                    .expect("resources")
                    .iter()
                    .filter(|r| r.label == *label)
                    .count();
                (n != 1).then(|| format!("{label} x{n}"))
            })
            .collect()
    }
}

/// Waits (bounded) until `reached` holds while `child` runs; panics if it exits first.
async fn watch_until<F, Fut>(setup: &Setup, child: &mut Child, tag: &str, what: &str, reached: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + POINT_BOUND;
    loop {
        if reached().await {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let (out, err) = setup.ws.output_of(tag);
            panic!("the apply exited ({status}) before {what}:\n{out}\n{err}");
        }
        assert!(
            Instant::now() < deadline,
            "{what} not reached within {POINT_BOUND:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs apply, kills it at `point`, recovers, checks, and returns the result line.
async fn crash_at(setup: Setup, point: Point, recover_by_unlock: bool) -> String {
    let ws = &setup.ws;
    ws.sandbox.add_fault(FaultRule::new(
        "POST *",
        Fault::Latency {
            ms: POST_LATENCY_MS,
        },
    ));
    let tag = "killed";
    let mut child = setup.spawn(
        tag,
        &["apply", "--auto-approve", "--lease-ttl", LEASE_TTL_SECS],
    );
    let obs = &setup.observer;
    match point {
        Point::Intent => {
            watch_until(&setup, &mut child, tag, "an intent", || async {
                !obs.intents().await.is_empty()
            })
            .await;
        }
        Point::RequestSent => {
            watch_until(&setup, &mut child, tag, "the create request", || async {
                ws.sandbox.counters().route("POST /vultr/v2/instances") > 0
            })
            .await;
        }
        Point::Response => {
            watch_until(&setup, &mut child, tag, "web-1 at the provider", || async {
                ws.sandbox
                    .resources(Provider::Vultr, SbKind::Instance)
                    .expect("resources")
                    .find_by_label("web-1")
                    .is_some()
            })
            .await;
        }
        Point::MidWrite => {
            watch_until(&setup, &mut child, tag, "the first record", || async {
                obs.managed().await > 0
            })
            .await;
        }
        Point::LaterStage => {
            watch_until(&setup, &mut child, tag, "a volume's intent", || async {
                obs.intents()
                    .await
                    .iter()
                    .any(|a| a.starts_with("block_volumes."))
            })
            .await;
        }
    }
    let pid = child.id();
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let at_kill = format!(
        "killed with {} intent(s), {} managed record(s), {} POST(s) sent",
        obs.intents().await.len(),
        obs.managed().await,
        ws.sandbox
            .counters()
            .per_route
            .iter()
            .filter(|(r, _)| r.starts_with("POST "))
            .map(|(_, n)| n)
            .sum::<u64>()
    );
    ws.sandbox.clear_faults();

    // The killed run's lease is still there, and its run still says `running`.
    let (owner, expires) = obs.lease().await.expect("the killed apply's lease is left");
    assert!(
        owner.ends_with(&format!(":{pid}")),
        "{owner} is the killed apply"
    );
    let killed_run = obs
        .runs()
        .await
        .into_iter()
        .rfind(|(_, kind, _)| kind == "apply")
        .expect("the killed apply's run record");
    assert_eq!(killed_run.2, "running", "{killed_run:?}");

    let how = if recover_by_unlock {
        let unlock = setup.run(&["unlock", "--force"]).await;
        assert_eq!(unlock.status.code(), Some(0), "{}", text(&unlock.stderr));
        assert!(
            text(&unlock.stdout).contains(&owner),
            "{}",
            text(&unlock.stdout)
        );
        let logged = obs.runs().await.iter().any(|(_, kind, _)| kind == "unlock");
        assert!(logged, "force-unlock is in the run log");
        "`unlock --force` (logged as an unlock run)"
    } else {
        // Wait out the lease (bounded), then the next apply takes it over.
        let deadline = Instant::now() + Duration::from_secs(60);
        while Timestamp::now() <= expires {
            assert!(Instant::now() < deadline, "the lease never expired");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        "lease expiry"
    };

    // Apply again until it reports success: a volume found unattached is reported as failed by
    // the run that finds it and attached by the next (at most two runs).
    let mut reruns = 0;
    loop {
        reruns += 1;
        let again = setup.run(&["apply", "--auto-approve"]).await;
        let (out, err) = (text(&again.stdout), text(&again.stderr));
        assert!(
            !err.contains("is held by"),
            "the expired lease is taken over: {err}"
        );
        if again.status.code() == Some(0) {
            assert!(out.contains("Apply complete"), "{out}");
            break;
        }
        assert!(
            reruns < 2 && out.contains("not attached"),
            "re-run {reruns} failed:\n{out}\n{err}"
        );
    }
    let miscounted = setup.miscounted();
    assert!(miscounted.is_empty(), "not exactly one: {miscounted:?}");
    let intents = obs.intents().await;
    assert!(intents.is_empty(), "intents left: {intents:?}");
    let runs = obs.runs().await;
    let killed = runs
        .iter()
        .find(|r| r.0 == killed_run.0)
        .expect("the killed run");
    assert_eq!(killed.2, "running", "the killed run stays `running`");
    let last = runs
        .iter()
        .rfind(|(_, kind, _)| kind == "apply")
        .expect("an apply run");
    assert_eq!(last.2, "succeeded", "{runs:?}");
    assert!(obs.lease().await.is_none(), "the lease is released");
    let plan = setup.run(&["plan", "--detailed-exitcode"]).await;
    assert_eq!(
        plan.status.code(),
        Some(0),
        "converged: {}",
        text(&plan.stdout)
    );
    format!(
        "{at_kill}; recovered by {how}; {reruns} re-run(s): exactly one of each of the {} resources, no duplicate, no intent left, killed run left `running`, next run `succeeded`, plan empty",
        FLEET.len()
    )
}

async fn report(point: Point, recover_by_unlock: bool, setup: Setup) {
    let backend = setup.backend;
    let line = crash_at(setup, point, recover_by_unlock).await;
    eprintln!("RELIABILITY crash {backend}:{} -> {line}", point.name());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_killed_after_the_intent_is_recorded() {
    report(Point::Intent, false, Setup::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_killed_after_the_create_request_was_sent() {
    report(Point::RequestSent, false, Setup::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_killed_after_the_create_response() {
    report(Point::Response, false, Setup::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_killed_mid_write_then_force_unlocked() {
    report(Point::MidWrite, true, Setup::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_killed_in_a_later_stage() {
    report(Point::LaterStage, false, Setup::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_killed_after_the_intent_is_recorded() {
    report(Point::Intent, false, Setup::dynamodb().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_killed_after_the_create_response() {
    report(Point::Response, false, Setup::dynamodb().await).await;
}
