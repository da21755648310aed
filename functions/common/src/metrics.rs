//! The sync's metrics as CloudWatch Embedded Metric Format (EMF): one JSON line per dock per run
//! with `SecondsSinceLastSuccessfulSync`, and one line per run with `DocksFailed`, printed on
//! stdout where CloudWatch Logs turns them into metrics (no PutMetricData call, no permission).
//!
//! The names are fixed by the deployment's alarms (infra/template.yaml): namespace `StackDock`,
//! dimension `Stack` from `STACKDOCK_STACK`, and `Dock`. Lines are built by pure functions of
//! the dock statuses and `now`; only [`emit`] prints.

use jiff::Timestamp;
use serde_json::{Value, json};
use stackdock_core::record::DockStatus;

/// The metrics' namespace.
pub const NAMESPACE: &str = "StackDock";
/// The age of a dock's last complete sync, in seconds (per dock; alarmed on its `Maximum` over
/// dimension `Stack`).
pub const SECONDS_SINCE_LAST_SUCCESSFUL_SYNC: &str = "SecondsSinceLastSuccessfulSync";
/// Docks whose sync failed in a run.
pub const DOCKS_FAILED: &str = "DocksFailed";

/// The `Stack` dimension: `STACKDOCK_STACK` (the template sets it to the stack's name), else
/// `local`.
pub fn stack_name() -> String {
    std::env::var("STACKDOCK_STACK")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "local".to_owned())
}

/// The EMF lines of one sync run: one per configured dock that has ever synced completely
/// (a dock that never did has no age; `DocksFailed` covers it), then `DocksFailed`.
pub fn sync_lines(
    stack: &str,
    now: Timestamp,
    docks: &[&str],
    statuses: &[DockStatus],
    docks_failed: usize,
) -> Vec<Value> {
    let millis = now.as_millisecond();
    let mut lines: Vec<Value> = docks
        .iter()
        .filter_map(|dock| {
            let at = statuses
                .iter()
                .find(|s| s.name == *dock)
                .and_then(|s| s.last_sync_at)?;
            let age = now.duration_since(at).as_secs_f64().max(0.0).round();
            Some(json!({
                "_aws": {
                    "Timestamp": millis,
                    "CloudWatchMetrics": [{
                        "Namespace": NAMESPACE,
                        "Dimensions": [["Stack"], ["Stack", "Dock"]],
                        "Metrics": [{"Name": SECONDS_SINCE_LAST_SUCCESSFUL_SYNC, "Unit": "Seconds"}]
                    }]
                },
                "Stack": stack,
                "Dock": dock,
                SECONDS_SINCE_LAST_SUCCESSFUL_SYNC: age,
            }))
        })
        .collect();
    lines.push(json!({
        "_aws": {
            "Timestamp": millis,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Stack"]],
                "Metrics": [{"Name": DOCKS_FAILED, "Unit": "Count"}]
            }]
        },
        "Stack": stack,
        DOCKS_FAILED: docks_failed,
    }));
    lines
}

/// Prints each line on stdout as one line, outside the tracing subscriber: EMF must be the whole
/// log event, not a field of one.
pub fn emit(lines: &[Value]) {
    for line in lines {
        // `println!` writes the whole line under stdout's lock (and is captured by tests).
        println!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stackdock_core::ProviderKind;

    fn status(name: &str, last_sync_at: Option<Timestamp>) -> DockStatus {
        DockStatus {
            org_id: "acme".into(),
            dock_id: format!("acme/{name}"),
            name: name.into(),
            provider: ProviderKind::Vultr,
            last_sync_at,
            last_attempt_at: last_sync_at,
            last_error: None,
            catalog: None,
            env_fingerprints: Default::default(),
        }
    }

    #[test]
    fn one_line_per_synced_dock_and_one_docks_failed_line() {
        let now: Timestamp = "2026-12-06T18:00:00Z".parse().expect("time");
        let earlier: Timestamp = "2026-12-06T17:50:00Z".parse().expect("time");
        let lines = sync_lines(
            "prod",
            now,
            &["vultr-main", "do-main"],
            &[status("vultr-main", Some(earlier)), status("do-main", None)],
            1,
        );
        assert_eq!(lines.len(), 2, "{lines:#?}");
        let text = lines[0].to_string();
        assert!(!text.contains('\n'));
        let dock: Value = serde_json::from_str(&text).expect("one JSON object");
        assert_eq!(dock["Stack"], "prod");
        assert_eq!(dock["Dock"], "vultr-main");
        assert_eq!(dock["SecondsSinceLastSuccessfulSync"], 600.0);
        let directive = &dock["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "StackDock");
        assert_eq!(
            directive["Dimensions"],
            json!([["Stack"], ["Stack", "Dock"]])
        );
        assert_eq!(
            directive["Metrics"],
            json!([{"Name": "SecondsSinceLastSuccessfulSync", "Unit": "Seconds"}])
        );
        assert_eq!(dock["_aws"]["Timestamp"], now.as_millisecond());
        let failed = &lines[1];
        assert_eq!(failed["DocksFailed"], 1);
        assert_eq!(
            failed["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Stack"]])
        );
        assert_eq!(
            failed["_aws"]["CloudWatchMetrics"][0]["Metrics"],
            json!([{"Name": "DocksFailed", "Unit": "Count"}])
        );
    }
}
