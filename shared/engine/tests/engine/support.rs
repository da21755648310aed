//! Builders shared by the engine tests: a config, fake docks and an in-memory store.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::{Arc, Mutex, Once};

use stackdock_core::config::{
    Config, CredentialRef, DesiredResource, DockConfig, DriftMode, Settings,
};
use stackdock_core::record::dock_id;
use stackdock_core::{FieldValue, Kind, ProviderKind};
use stackdock_engine::{ApplyOptions, Docks, PlanOptions, SyncOptions, plan_current, sync};
use stackdock_providers::fake::FakeProvider;
use stackdock_providers::{DockContext, Provider};
use stackdock_store::Store;
use stackdock_store::sqlite::SqliteStore;

pub const ORG: &str = "acme";

pub struct World {
    pub config: Config,
    pub vultr: Arc<FakeProvider>,
    pub linode: Arc<FakeProvider>,
    pub docks: Docks,
    pub store: Arc<dyn Store>,
}

pub fn fake(dock: &str, provider: ProviderKind) -> Arc<FakeProvider> {
    Arc::new(FakeProvider::new(DockContext {
        org: ORG.into(),
        dock: dock.into(),
        dock_id: dock_id(ORG, dock),
        provider,
        credential_source: CredentialRef::Env("TOKEN".into()),
        settings: Default::default(),
    }))
}

pub fn server(name: &str, dock: &str, plan: &str) -> DesiredResource {
    resource(
        Kind::Servers,
        name,
        dock,
        [
            ("region", FieldValue::from("ewr")),
            ("plan", plan.into()),
            ("image", "os:2284".into()),
            ("tags", FieldValue::set(["web"])),
        ],
    )
}

pub fn volume(name: &str, dock: &str, size: i64, attach_to: &str) -> DesiredResource {
    resource(
        Kind::BlockVolumes,
        name,
        dock,
        [
            ("region", FieldValue::from("ewr")),
            ("size_gb", FieldValue::Int(size)),
            ("attach_to", attach_to.into()),
        ],
    )
}

pub fn resource<const N: usize>(
    kind: Kind,
    name: &str,
    dock: &str,
    fields: [(&str, FieldValue); N],
) -> DesiredResource {
    DesiredResource {
        kind,
        name: name.into(),
        dock: dock.into(),
        protect: false,
        id: None,
        ignore_changes: BTreeSet::new(),
        allow_replace: false,
        fields: fields.into_iter().map(|(k, v)| (k.into(), v)).collect(),
    }
}

impl World {
    pub fn new(resources: Vec<DesiredResource>) -> World {
        let dock = |name: &str, provider| {
            (
                name.to_owned(),
                DockConfig {
                    name: name.into(),
                    provider,
                    credentials: CredentialRef::Env("TOKEN".into()),
                    endpoint: None,
                    regions: None,
                    settings: Default::default(),
                },
            )
        };
        let config = Config {
            settings: Settings {
                org: ORG.into(),
                prune: false,
                drift: DriftMode::Flag,
                table_prefix: "stackdock".into(),
                schedule: None,
            },
            docks: BTreeMap::from([
                dock("vultr", ProviderKind::Vultr),
                dock("linode", ProviderKind::Linode),
            ]),
            resources,
            notify: None,
        };
        let vultr = fake("vultr", ProviderKind::Vultr);
        let linode = fake("linode", ProviderKind::Linode);
        let docks = Docks::of([
            Arc::clone(&vultr) as Arc<dyn Provider>,
            Arc::clone(&linode) as Arc<dyn Provider>,
        ]);
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open_in_memory().expect("in-memory store"));
        World {
            config,
            vultr,
            linode,
            docks,
            store,
        }
    }

    pub async fn sync(&self) -> stackdock_engine::SyncReport {
        sync(
            &self.config,
            &self.docks,
            self.store.as_ref(),
            &SyncOptions::default(),
        )
        .await
        .expect("sync")
    }

    pub async fn plan(&self) -> stackdock_core::plan::Plan {
        plan_current(
            &self.config,
            &self.docks,
            self.store.as_ref(),
            PlanOptions::default(),
        )
        .await
        .expect("plan")
    }

    pub fn options(&self) -> ApplyOptions {
        ApplyOptions::new("test-owner", "tester", ".")
    }

    /// sync → plan → apply; returns the apply's report.
    pub async fn converge(&self) -> stackdock_engine::ApplyReport {
        self.sync().await;
        let plan = self.plan().await;
        stackdock_engine::apply(
            &plan,
            &self.config,
            &self.docks,
            self.store.as_ref(),
            &self.options(),
        )
        .await
        .expect("apply")
    }

    pub fn mutations(&self) -> usize {
        self.vultr.calls().mutations() + self.linode.calls().mutations()
    }
}

/// Log lines written on this thread while the guard lives (the tests that capture run on a
/// current-thread runtime, so every task they spawn logs here).
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

/// Captures every event at every level on this thread until the guard drops.
///
/// A bare registry is installed as the process-wide default first. Without it, tracing-core
/// resolves a callsite's interest against whichever thread registers it first while only one
/// dispatcher exists (tokio-rs/tracing#3611): a sibling test without a subscriber would cache
/// `never` for a callsite, and this capture would silently miss its events.
pub fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    static GLOBAL: Once = Once::new();
    GLOBAL.call_once(|| {
        // Fails only if another global default exists, which serves the same purpose.
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
    });
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}
