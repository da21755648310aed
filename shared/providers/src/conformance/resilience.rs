//! The conformance checks of what an adapter must never leak or misreport: secrets stripped from
//! every record, each error status classified, readiness reached.

use serde_json::Value;
use stackdock_sandbox::{Fault, FaultRule, SECRET_MARKER, SandboxConfig};

use super::{Case, create_ready};
use crate::ErrorClass;

/// Whether `value` has any key of `keys` at any depth; returns the first found.
fn secret_key_in<'k>(value: &Value, keys: &[&'k str]) -> Option<&'k str> {
    match value {
        Value::Object(map) => keys
            .iter()
            .find(|k| map.contains_key(**k))
            .copied()
            .or_else(|| map.values().find_map(|v| secret_key_in(v, keys))),
        Value::Array(items) => items.iter().find_map(|v| secret_key_in(v, keys)),
        _ => None,
    }
}

/// No record the adapter returns, listed (fixtures and bulk), created (with secret user data where
/// the kind takes it), waited for or read, holds a secret value (the sandbox marks each with
/// [`SECRET_MARKER`]) or any of the case's secret keys in `fullApiData`.
pub async fn secrets_are_stripped(case: &Case) {
    let (sandbox, p) = case.start(SandboxConfig::default()).await;
    sandbox.seed_fixtures();
    case.seed(&sandbox, 3);
    let user_data = format!("#cloud-config\n# {SECRET_MARKER}user-data\n");
    let user_data = case.takes_user_data().then_some(user_data.as_str());
    let created = create_ready(case, p.as_ref(), user_data).await;
    let id = &created.ready.provider_resource_id;
    let mut records = case.ok("list", p.list(case.kind).await);
    let got = case.ok("get", p.get(case.kind, id).await);
    records.extend(got);
    records.push(created.ready);
    for r in &records {
        let text = serde_json::to_string(r)
            .unwrap_or_else(|e| panic!("{}: a record does not serialise: {e}", case.who()));
        assert!(
            !text.contains(SECRET_MARKER),
            "{}: a secret value reached record {}",
            case.who(),
            r.provider_resource_id
        );
        if let Some(key) = secret_key_in(&r.full_api_data.to_value(), case.secret_keys) {
            panic!(
                "{}: secret key `{key}` kept in the fullApiData of {}",
                case.who(),
                r.provider_resource_id
            );
        }
    }
    sandbox.shutdown().await;
}

/// The statuses an adapter must tell apart, and the class each one is.
pub const CLASSIFIED: &[(u16, ErrorClass)] = &[
    (400, ErrorClass::Invalid),
    (401, ErrorClass::Unauthorized),
    (403, ErrorClass::Unauthorized),
    (404, ErrorClass::NotFound),
    (409, ErrorClass::Conflict),
    (422, ErrorClass::Invalid),
    (429, ErrorClass::RateLimited),
    (500, ErrorClass::Transient),
    (502, ErrorClass::Transient),
    (503, ErrorClass::Transient),
];

/// Each status of [`CLASSIFIED`], answered to every request of a listing and of a `get`, fails it
/// with that class, naming the dock (a `get`'s 404 is `None`: [`unknown_id_reads_as_none`]).
/// Retried statuses answer every attempt, so the class is the one given up with.
pub async fn errors_are_classified(case: &Case) {
    let (sandbox, p) = case.start(SandboxConfig::default()).await;
    case.seed(&sandbox, 1);
    let dock = p.context().dock.clone();
    for &(code, class) in CLASSIFIED {
        let fault = match code {
            // No wait: the answer's `Retry-After` would be honoured.
            429 => Fault::RateLimited {
                retry_after: Some(0),
            },
            code => Fault::Status { code },
        };
        for route in [case.list_route(), case.get_route()] {
            if code == 404 && route == case.get_route() {
                continue;
            }
            sandbox.clear_faults();
            sandbox.add_fault(FaultRule::new(route.clone(), fault.clone()));
            let what = format!("{code} on {route}");
            let e = if route == case.list_route() {
                case.refused(&what, p.list(case.kind).await)
            } else {
                case.refused(&what, p.get(case.kind, case.unknown_id).await)
            };
            assert_eq!(e.class, class, "{}: {what}: {e}", case.who());
            assert_eq!(e.dock, dock, "{}: {what}: names another dock", case.who());
        }
    }
    sandbox.shutdown().await;
}

/// With resources pending for a few polls, `wait_ready` after a create returns the resource at its
/// ready status, and `get` agrees.
pub async fn readiness_is_reached(case: &Case) {
    let (sandbox, p) = case
        .start(SandboxConfig::default().with_pending_polls(2))
        .await;
    let created = create_ready(case, p.as_ref(), None).await;
    assert_eq!(
        created.ready.status,
        case.ready_status,
        "{}: wait_ready returned it not ready",
        case.who()
    );
    let id = &created.ready.provider_resource_id;
    let got = case.ok("get after ready", p.get(case.kind, id).await);
    let got = got.unwrap_or_else(|| panic!("{}: gone after ready", case.who()));
    assert_eq!(
        got.status,
        case.ready_status,
        "{}: get after wait_ready",
        case.who()
    );
    sandbox.shutdown().await;
}
