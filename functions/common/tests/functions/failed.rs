//! A failed create (issue 21, part 5) as the API shows it, on DynamoDB (moto): the record's
//! `provisioningState = failed` and `provisioningError` in `GET /v1/inventory`, and the report
//! page marking it failed with the error.

use stackdock_core::Record;
use stackdock_core::record::{ProvisioningSource, ProvisioningState, dock_id, failed_create_id};

use axum::http::StatusCode;

use crate::support::{Live, ORG};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_create_is_shown_with_its_error_by_the_inventory_and_the_report() {
    let live = Live::new().await;
    live.scheduled_sync().await.expect("sync");
    let error = "dock `vultr-main`: POST /instances: invalid request: HTTP 400: Invalid plan.";
    let mut failed = Record::new(
        ORG,
        dock_id(ORG, "vultr-main"),
        stackdock_core::ProviderKind::Vultr,
        stackdock_core::Kind::Servers,
        failed_create_id("servers.web-9"),
        "web-9",
    );
    failed.status = "error".into();
    failed.managed_by = Some("servers.web-9".into());
    failed.provisioning_source = ProvisioningSource::Api;
    failed.provisioning_state = Some(ProvisioningState::Failed);
    failed.provisioning_error = Some(error.into());
    failed.missing_since = Some(jiff::Timestamp::now());
    let failed = failed.with_hash();
    live.store
        .put_records(std::slice::from_ref(&failed))
        .await
        .expect("put the failed create");

    let reply = live
        .get("/v1/inventory?kind=servers&dock=vultr-main&limit=100")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body: serde_json::Value = serde_json::from_str(&reply.text).expect("json");
    let shown = body["records"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["providerResourceId"] == failed.provider_resource_id.as_str())
        .expect("the failed create is in the inventory");
    assert_eq!(shown["provisioningState"], "failed", "{shown}");
    assert_eq!(shown["provisioningError"], error, "{shown}");

    let report = live.get("/v1/report").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    assert!(
        report.text.contains(
            "failed<br><small class=\"error\">dock `vultr-main`: POST /instances: invalid request: HTTP 400: Invalid plan.</small>"
        ),
        "the report shows the error"
    );
}
