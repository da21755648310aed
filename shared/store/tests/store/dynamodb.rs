//! The DynamoDB backend against a moto server (one per test, tables under a unique prefix): the
//! conformance suite, then what only DynamoDB needs checked: one UpdateItem per changed record and
//! zero record writes for an unchanged re-sync (counted), leases raced from separate clients, the
//! item layout (attribute names and types, run chunks under the item limit with their TTL), and
//! the table layout.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, KeyType, ProjectionType, TimeToLiveStatus};
use stackdock_core::record::dock_id;
use stackdock_core::{Kind, Record};
use stackdock_store::conformance::{self, ORG, at, full_record, server};
use stackdock_store::dynamodb::{DynamoStore, tables};
use stackdock_store::testing::{MotoServer, WriteHoldingProxy, unique_prefix};
use stackdock_store::{Store, StoreError};

use super::{complete, sync_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_against_moto() {
    let moto = MotoServer::start();
    let client = moto.dynamo_client();
    conformance::run_all(move || {
        let client = client.clone();
        async move {
            let store =
                DynamoStore::new(client, &unique_prefix("conformance")).expect("a valid prefix");
            store.create_tables().await.expect("create the tables");
            Arc::new(store) as Arc<dyn Store>
        }
    })
    .await;
}

/// The sync's writes are held at a proxy in front of moto after its reads; the apply writes
/// ownership through its own client meanwhile; then the sync's writes go through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_never_overwrites_ownership_an_apply_wrote_during_it() {
    let moto = MotoServer::start();
    let proxy = Arc::new(WriteHoldingProxy::start(&moto).await);
    let prefix = unique_prefix("interleave");
    let apply = moto.dynamo_store(&prefix).await;
    let synced = DynamoStore::new(proxy.dynamo_client(), &prefix).expect("a valid prefix");
    conformance::a_sync_never_overwrites_ownership_an_apply_wrote_during_it(
        Arc::new(synced),
        Arc::new(apply),
        Some(proxy as Arc<dyn conformance::WriteGate>),
    )
    .await;
}

/// 60 changed records per sync: 60 UpdateItem calls (one per record: only its observed half is
/// written, which BatchWriteItem cannot do; the write units are the same), then the dock status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_changed_records_are_sixty_updates_and_an_unchanged_resync_writes_no_record() {
    let moto = MotoServer::start();
    let store = moto.dynamo_store(&unique_prefix("batch")).await;
    let dock = dock_id(ORG, "vultr-main");
    let servers = |status: &str| -> Vec<Record> {
        (0..60)
            .map(|i| {
                let mut record = server(
                    ORG,
                    &dock,
                    &format!("id-{i:02}"),
                    &format!("web-{i}"),
                    "ewr",
                );
                record.status = status.into();
                record.with_hash()
            })
            .collect()
    };

    let (writes, records) = (store.write_requests(), store.record_write_requests());
    let stats = store
        .commit_sync(sync_of(
            &dock,
            0,
            vec![complete(Kind::Servers, servers("running"))],
        ))
        .await
        .expect("first sync");
    assert_eq!(stats.written, 60);
    assert_eq!(
        store.record_write_requests() - records,
        60,
        "60 new records: 60 UpdateItem calls"
    );
    assert_eq!(
        store.write_requests() - writes,
        61,
        "60 record writes + the dock status"
    );

    let (writes, records) = (store.write_requests(), store.record_write_requests());
    let stats = store
        .commit_sync(sync_of(
            &dock,
            60,
            vec![complete(Kind::Servers, servers("stopped"))],
        ))
        .await
        .expect("sync with every record changed");
    assert_eq!(stats.written, 60);
    assert_eq!(
        store.record_write_requests() - records,
        60,
        "60 changed records: 60 UpdateItem calls"
    );
    assert_eq!(
        store.write_requests() - writes,
        61,
        "60 record writes + the dock status"
    );
    let inventory = store.inventory(ORG, Some(&dock)).await.expect("inventory");
    assert_eq!(
        inventory.len(),
        60,
        "every record is stored (pagination included)"
    );
    assert!(
        inventory
            .iter()
            .all(|r| r.status == "stopped" && r.updated_at == Some(at(60)))
    );

    let (writes, records) = (store.write_requests(), store.record_write_requests());
    let stats = store
        .commit_sync(sync_of(
            &dock,
            120,
            vec![complete(Kind::Servers, servers("stopped"))],
        ))
        .await
        .expect("unchanged re-sync");
    assert_eq!((stats.written, stats.unchanged), (0, 60));
    assert_eq!(
        store.record_write_requests() - records,
        0,
        "an unchanged re-sync writes no record"
    );
    assert_eq!(
        store.write_requests() - writes,
        1,
        "an unchanged re-sync sends one write request: the dock status (lastSyncAt)"
    );
    let statuses = store.dock_statuses(ORG).await.expect("statuses");
    assert_eq!(statuses[0].last_sync_at, Some(at(120)));

    let (writes, records) = (store.write_requests(), store.record_write_requests());
    let written = store
        .put_records(&inventory)
        .await
        .expect("put unchanged records");
    assert_eq!(
        written, 0,
        "put_records skips records identical to the stored ones"
    );
    assert_eq!(
        (
            store.write_requests() - writes,
            store.record_write_requests() - records
        ),
        (0, 0),
        "put_records of identical records sends no write request"
    );
}

/// Two stores with their own clients (two Lambdas) race for the same free lease, many times.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_lease_takers_exactly_one_wins() {
    let moto = MotoServer::start();
    let prefix = unique_prefix("lease");
    let first = moto.dynamo_store(&prefix).await;
    let second = DynamoStore::new(moto.dynamo_client(), &prefix).expect("a valid prefix");
    for round in 0..10 {
        let name = format!("apply/race-{round}");
        let minute = Duration::from_secs(60);
        let (a, b) = tokio::join!(
            first.acquire_lease(&name, "lambda-a", minute, at(0)),
            second.acquire_lease(&name, "lambda-b", minute, at(0)),
        );
        let (winner, refused) = match (a, b) {
            (Ok(won), Err(refused)) | (Err(refused), Ok(won)) => (won, refused),
            (a, b) => panic!("round {round}: exactly one must win, got {a:?} and {b:?}"),
        };
        match refused {
            StoreError::LeaseHeld {
                owner, expires_at, ..
            } => {
                assert_eq!(owner, winner.owner, "the loser is told who won");
                assert_eq!(expires_at, at(60), "and until when");
            }
            other => panic!("round {round}: the loser must get LeaseHeld, got {other}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_is_taken_over_and_the_old_holder_has_lost_it() {
    let moto = MotoServer::start();
    let store = moto.dynamo_store(&unique_prefix("expiry")).await;
    let name = "apply/acme";
    let alice = store
        .acquire_lease(name, "alice", Duration::from_secs(10), at(0))
        .await
        .expect("acquire");
    assert!(
        matches!(
            store.acquire_lease(name, "bob", Duration::from_secs(60), at(9)).await,
            Err(StoreError::LeaseHeld { ref owner, .. }) if owner == "alice"
        ),
        "one second before expiry the lease is still alice's"
    );
    let bob = store
        .acquire_lease(name, "bob", Duration::from_secs(60), at(10))
        .await
        .expect("an expired lease is taken over");
    assert_eq!(
        (bob.owner.as_str(), bob.acquired_at, bob.expires_at),
        ("bob", at(10), at(70))
    );
    assert!(matches!(
        store
            .renew_lease(&alice, Duration::from_secs(60), at(11))
            .await,
        Err(StoreError::LeaseLost { .. })
    ));
    store
        .release_lease(&alice)
        .await
        .expect("releasing a lost lease is a no-op");
    assert_eq!(store.force_release(name).await.expect("force"), Some(bob));
}

/// Every kind's full record round-trips, and is stored as the item the SAM template and a person
/// reading the console expect: the record's JSON attribute names, N/S/BOOL/L/M, nulls left out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_round_trips_with_json_attribute_names_and_types() {
    let moto = MotoServer::start();
    let prefix = unique_prefix("codec");
    let store = moto.dynamo_store(&prefix).await;
    let dock = dock_id(ORG, "vultr-main");
    let records: Vec<Record> = Kind::ALL
        .into_iter()
        .map(|kind| {
            let mut record = full_record(kind, ORG, &dock, "id-1");
            record.protect = true;
            record.managed_by = Some(format!("{kind}.x").into());
            record
        })
        .collect();
    assert_eq!(
        store.put_records(&records).await.expect("put"),
        Kind::ALL.len()
    );
    // This dock has no status: the org inventory finds its records through the `orgId-index`
    // (which does not project fullApiData) and reads them whole by key.
    let mut expected = records.clone();
    expected.sort_by_key(Record::key);
    assert_eq!(
        store.inventory(ORG, None).await.expect("inventory"),
        expected,
        "records found through the index come back whole, fullApiData included"
    );
    for record in &records {
        let stored = store.get(&record.key()).await.expect("get");
        assert_eq!(
            stored.as_ref(),
            Some(record),
            "{} round-trips",
            record.kind()
        );
    }

    let client = moto.dynamo_client();
    let item = client
        .get_item()
        .table_name(tables::table_name(&prefix, "blockVolumes"))
        .key("dockId", AttributeValue::S(dock.clone()))
        .key("providerResourceId", AttributeValue::S("id-1".into()))
        .send()
        .await
        .expect("raw get")
        .item
        .expect("the item exists");
    assert_eq!(item["orgId"], AttributeValue::S(ORG.into()));
    assert_eq!(
        item["sizeGb"],
        AttributeValue::N("40".into()),
        "numbers are N"
    );
    assert_eq!(
        item["protect"],
        AttributeValue::Bool(true),
        "booleans are BOOL"
    );
    assert_eq!(
        item["attachedToInstanceLabel"],
        AttributeValue::S("web-1".into())
    );
    assert!(item["fullApiData"].is_m(), "fullApiData is a map");
    assert!(item["drift"].is_l(), "lists are L");
    for absent in ["kind", "missingSince", "updatedAt", "provisioningState"] {
        assert!(
            !item.contains_key(absent),
            "`{absent}` (the table, or null) is not stored"
        );
    }
    let expected: BTreeSet<&str> = [
        "orgId",
        "dockId",
        "provider",
        "providerResourceId",
        "name",
        "status",
        "region",
        "sizeGb",
        "attachedToInstance",
        "attachedToInstanceLabel",
        "mountId",
        "blockType",
        "filesystemType",
        "fullApiData",
        "fullApiDataTruncated",
        "contentHash",
        "managedBy",
        "provisioningSource",
        "protect",
        "drift",
        "applied",
    ]
    .into();
    assert_eq!(
        item.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        expected
    );
}

/// Run records carry DynamoDB's `ttl` (epoch seconds): 90 days after a sync started, a year after
/// an apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_items_carry_a_ttl_of_90_days_for_syncs_and_a_year_for_applies() {
    let moto = MotoServer::start();
    let prefix = unique_prefix("ttl");
    let store = moto.dynamo_store(&prefix).await;
    let client = moto.dynamo_client();
    for (id, kind, days) in [
        ("sync-1", stackdock_store::RunKind::Sync, 90),
        ("apply-1", stackdock_store::RunKind::Apply, 365),
    ] {
        let mut run = stackdock_store::RunRecord::new(id, ORG, kind, "ci", at(0));
        run.expires_at = None;
        store.put_run(&run).await.expect("put a run");
        let item = client
            .get_item()
            .table_name(tables::table_name(&prefix, tables::RUNS))
            .key("orgId", AttributeValue::S(ORG.into()))
            .key("runId", AttributeValue::S(id.into()))
            .send()
            .await
            .expect("raw get")
            .item
            .expect("the run item");
        let expected = at(0).as_second() + days * 24 * 60 * 60;
        assert_eq!(
            item[tables::TTL],
            AttributeValue::N(expected.to_string()),
            "{id}"
        );
    }
}

/// Issue 19 item 6: a 5,000-action run is a header item and chunk items, each far below
/// DynamoDB's 400 KB item limit and each with the run's `ttl`; recording one more action writes
/// the last chunk and the header, not the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_run_is_split_into_items_under_the_limit_that_all_expire_with_it() {
    let moto = MotoServer::start();
    let prefix = unique_prefix("runlog");
    let store = moto.dynamo_store(&prefix).await;
    let client = moto.dynamo_client();
    let action = |i: i64| stackdock_store::ActionResult {
        action: "create".into(),
        target: format!("servers.web-{i:04}"),
        dock: "vultr-main".into(),
        provider_id: Some(format!("id-{i}")),
        outcome: stackdock_store::Outcome::Succeeded,
        message: format!("created in {i} ms, {}", "ready ".repeat(30)),
        at: at(i),
    };
    let mut run = stackdock_store::RunRecord::new(
        "apply-long",
        ORG,
        stackdock_store::RunKind::Apply,
        "ci",
        at(0),
    );
    run.actions = (0..5_000).map(action).collect();
    store.put_run(&run).await.expect("put the run");

    let items = |client: aws_sdk_dynamodb::Client| {
        let table = tables::table_name(&prefix, tables::RUNS);
        async move {
            let mut items = Vec::new();
            let mut start = None;
            loop {
                let page = client
                    .query()
                    .table_name(&table)
                    .key_condition_expression("orgId = :o")
                    .expression_attribute_values(":o", AttributeValue::S(ORG.into()))
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .expect("raw query");
                items.extend(page.items.unwrap_or_default());
                start = page.last_evaluated_key;
                if start.is_none() {
                    return items;
                }
            }
        }
    };
    let stored = items(client.clone()).await;
    let expected_ttl = AttributeValue::N((at(0).as_second() + 365 * 24 * 60 * 60).to_string());
    let json_size = serde_json::to_string(&run).expect("json").len();
    assert!(
        stored.len() > 15,
        "{json_size} bytes of run take many items: {}",
        stored.len()
    );
    for item in &stored {
        let size: usize = item
            .iter()
            .map(|(name, value)| name.len() + value.as_s().map_or(64, String::len))
            .sum();
        assert!(
            size <= stackdock_store::RUN_CHUNK_BYTES + 1024,
            "an item of {size} bytes ({:?})",
            item.get("runId")
        );
        assert_eq!(
            item.get(tables::TTL),
            Some(&expected_ttl),
            "{:?}",
            item.get("runId")
        );
    }
    assert!(
        stored
            .iter()
            .any(|item| item.get("runId") == Some(&AttributeValue::S("apply-long".into()))),
        "the header is the item keyed by the run id"
    );

    let before = store.write_requests();
    run.actions.push(action(5_000));
    store.put_run(&run).await.expect("record one more action");
    assert_eq!(
        store.write_requests() - before,
        2,
        "one more action rewrites its chunk and the header"
    );
    assert_eq!(
        store.get_run(ORG, "apply-long").await.expect("get"),
        Some(run)
    );
}

/// A JSON value as DynamoDB wrote it before (the store's codec, restated for a raw put).
fn json_attribute(value: &serde_json::Value) -> AttributeValue {
    match value {
        serde_json::Value::Null => AttributeValue::Null(true),
        serde_json::Value::Bool(b) => AttributeValue::Bool(*b),
        serde_json::Value::Number(n) => AttributeValue::N(n.to_string()),
        serde_json::Value::String(s) => AttributeValue::S(s.clone()),
        serde_json::Value::Array(a) => AttributeValue::L(a.iter().map(json_attribute).collect()),
        serde_json::Value::Object(o) => AttributeValue::M(
            o.iter()
                .map(|(k, v)| (k.clone(), json_attribute(v)))
                .collect(),
        ),
    }
}

/// A run item written before runs were split (actions and log inline, no chunk digests) reads
/// back as it was, by id, and in the list once the upgrade step has indexed it; its next write
/// moves it to the split layout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_written_before_the_split_reads_as_before() {
    let moto = MotoServer::start();
    let prefix = unique_prefix("legacy-run");
    let store = moto.dynamo_store(&prefix).await;
    let client = moto.dynamo_client();
    let mut run = stackdock_store::RunRecord::new(
        "apply-old",
        ORG,
        stackdock_store::RunKind::Apply,
        "ci",
        at(0),
    );
    run.actions.push(stackdock_store::ActionResult {
        action: "create".into(),
        target: "servers.web-1".into(),
        dock: "vultr-main".into(),
        provider_id: Some("id-1".into()),
        outcome: stackdock_store::Outcome::Succeeded,
        message: "created".into(),
        at: at(1),
    });
    run.log(at(2), "apply finished");
    // The item as the store wrote it before: the run's JSON attributes and `ttl`.
    let mut json = serde_json::to_value(&run).expect("json");
    let fields = json.as_object_mut().expect("an object");
    fields.retain(|_, v| !v.is_null());
    let mut request = client
        .put_item()
        .table_name(tables::table_name(&prefix, tables::RUNS))
        .item(tables::TTL, AttributeValue::N("1893456000".into()));
    for (name, value) in fields.iter() {
        request = request.item(name, json_attribute(value));
    }
    request.send().await.expect("raw put of an old run item");

    assert_eq!(
        store.get_run(ORG, "apply-old").await.expect("get"),
        Some(run.clone())
    );
    // Written before the runs index: not listed until `index_runs` (the upgrade step) gives it
    // its key, once.
    assert_eq!(store.list_runs(ORG, 5).await.expect("list"), vec![]);
    assert_eq!(store.index_runs(ORG).await.expect("index the runs"), 1);
    assert_eq!(store.index_runs(ORG).await.expect("index again"), 0);
    assert_eq!(
        store.list_runs(ORG, 5).await.expect("list"),
        vec![run.clone()]
    );
    run.log(at(3), "marked by a later write");
    store.put_run(&run).await.expect("rewrite it");
    assert_eq!(
        store.get_run(ORG, "apply-old").await.expect("get"),
        Some(run)
    );
}

/// `create_tables` is idempotent and builds the layout `tables` documents (keys, GSI, TTL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_have_the_documented_layout_and_creation_is_idempotent() {
    let moto = MotoServer::start();
    let prefix = unique_prefix("layout");
    let store = moto.dynamo_store(&prefix).await;
    let names = store
        .create_tables()
        .await
        .expect("creating existing tables is fine");
    assert_eq!(names.len(), tables::TABLES.len());
    let client = moto.dynamo_client();
    for spec in tables::TABLES {
        let name = tables::table_name(&prefix, spec.table);
        let table = client
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .expect("describe")
            .table
            .expect("a table");
        let key = |key_type: KeyType| {
            table
                .key_schema()
                .iter()
                .find(|k| k.key_type == key_type)
                .map(|k| k.attribute_name.clone())
        };
        assert_eq!(
            key(KeyType::Hash).as_deref(),
            Some(spec.partition_key),
            "{name}"
        );
        assert_eq!(key(KeyType::Range).as_deref(), spec.sort_key, "{name}");
        let indexes = table.global_secondary_indexes();
        if spec.org_index {
            assert_eq!(indexes.len(), 1, "{name}");
            assert_eq!(indexes[0].index_name(), Some(tables::ORG_INDEX));
            assert_eq!(
                indexes[0].key_schema()[0].attribute_name(),
                tables::ORG_ID,
                "{name}"
            );
            let projection = indexes[0].projection().expect("a projection");
            assert_eq!(projection.projection_type(), Some(&ProjectionType::Include));
            assert_eq!(projection.non_key_attributes(), tables::INDEX_ATTRIBUTES);
        } else if spec.runs_index {
            assert_eq!(indexes.len(), 1, "{name}");
            assert_eq!(indexes[0].index_name(), Some(tables::RUNS_INDEX));
            let keys: Vec<(&str, &KeyType)> = indexes[0]
                .key_schema()
                .iter()
                .map(|k| (k.attribute_name(), k.key_type()))
                .collect();
            assert_eq!(
                keys,
                [
                    (tables::ORG_ID, &KeyType::Hash),
                    (tables::STARTED_KEY, &KeyType::Range)
                ],
                "{name}"
            );
            let projection = indexes[0].projection().expect("a projection");
            assert_eq!(projection.projection_type(), Some(&ProjectionType::All));
        } else {
            assert!(indexes.is_empty(), "{name}");
        }
        let ttl = client
            .describe_time_to_live()
            .table_name(&name)
            .send()
            .await
            .expect("describe TTL")
            .time_to_live_description
            .expect("a TTL description");
        if spec.ttl {
            assert_eq!(
                ttl.time_to_live_status,
                Some(TimeToLiveStatus::Enabled),
                "{name}"
            );
            assert_eq!(ttl.attribute_name(), Some(tables::TTL), "{name}");
        } else {
            assert_ne!(
                ttl.time_to_live_status,
                Some(TimeToLiveStatus::Enabled),
                "{name}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_table_says_how_to_create_it() {
    let moto = MotoServer::start();
    let store = DynamoStore::new(moto.dynamo_client(), &unique_prefix("none")).expect("prefix");
    let error = store.dock_statuses(ORG).await.expect_err("no tables");
    let message = error.to_string();
    assert!(message.contains("-docks"), "names the table: {message}");
    assert!(
        message.contains("stackdock tables create"),
        "says what to do: {message}"
    );
}
