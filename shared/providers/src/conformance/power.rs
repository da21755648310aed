//! The conformance checks of a server's power actions: each action sent once to the provider's
//! own route, the state it leads to reached through the sandbox's delayed transitions, a failed
//! action or poll classified (never taken for success), and every other kind refusing them.

use stackdock_core::{FieldValue, Kind};
use stackdock_sandbox::{Fault, FaultRule, Provider as Sandboxed, SandboxConfig, SandboxHandle};

use super::{Case, READY, create_ready};
use crate::{ErrorClass, PowerAction, Provider};

/// The sandbox route (as it counts requests and matches faults) that carries `action`.
fn power_route(case: &Case, action: PowerAction) -> String {
    let verb = match (case.sandboxed.0, action) {
        (Sandboxed::Digitalocean, _) => "actions",
        (Sandboxed::Vultr, PowerAction::On) => "start",
        (Sandboxed::Vultr, PowerAction::Off) => "halt",
        (Sandboxed::Linode, PowerAction::On) => "boot",
        (Sandboxed::Linode, PowerAction::Off) => "shutdown",
        (_, PowerAction::Reboot) => "reboot",
        // Only server cases run the power checks; a provider without servers has no route.
        (other, _) => panic!("{other:?} hosts no servers, so no power route"),
    };
    format!("POST {}/{}/{verb}", case.collection(), case.routes().1)
}

/// Sends `action` to server `id`, checks it went out once, and waits for its state.
async fn act(
    case: &Case,
    sandbox: &SandboxHandle,
    p: &dyn Provider,
    id: &str,
    action: PowerAction,
) {
    sandbox.reset_counters();
    case.ok(
        &format!("{action}"),
        p.power(Kind::Servers, id, action).await,
    );
    assert_eq!(
        sandbox.counters().route(&power_route(case, action)),
        1,
        "{}: {action} is one request to its route",
        case.who()
    );
    let r = case.ok(
        &format!("wait after {action}"),
        p.wait_power(Kind::Servers, id, action, READY).await,
    );
    assert_eq!(
        r.status,
        action.target_status(),
        "{}: after {action}",
        case.who()
    );
    let power = FieldValue::Str(action.power_value().into());
    assert_eq!(
        r.field("power"),
        Some(power),
        "{}: `power` after {action}",
        case.who()
    );
}

/// With every transition pending for a few polls: power-off reaches `stopped`, power-on and
/// reboot reach `running`, each one request to the provider's route; a 500 on the action is a
/// transient error and changes nothing; a poll that fails is an error, not the state; a kind
/// other than servers refuses power actions as invalid.
pub async fn power_actions_reach_their_state(case: &Case) {
    let (sandbox, p) = case
        .start(SandboxConfig::default().with_pending_polls(2))
        .await;
    if case.kind != Kind::Servers {
        sandbox.reset_counters();
        let refused = p.power(case.kind, case.unknown_id, PowerAction::Off).await;
        let e = case.refused("a power action", refused);
        assert_eq!(e.class, ErrorClass::Invalid, "{}: {e}", case.who());
        assert_eq!(
            sandbox.counters().total,
            0,
            "{}: a refused action sent a request",
            case.who()
        );
        sandbox.shutdown().await;
        return;
    }
    let created = create_ready(case, p.as_ref(), None).await;
    let id = created.ready.provider_resource_id.clone();
    assert_eq!(created.ready.field("power"), Some(FieldValue::from("on")));

    // A failed action is reported as the provider failure it is, and nothing changed.
    let off = power_route(case, PowerAction::Off);
    sandbox.add_fault(FaultRule::new(off.clone(), Fault::Status { code: 500 }).times(1));
    let e = case.refused(
        "a power-off answered 500",
        p.power(Kind::Servers, &id, PowerAction::Off).await,
    );
    assert_eq!(e.class, ErrorClass::Transient, "{}: {e}", case.who());
    let still = case.ok(
        "get after a failed power-off",
        p.get(Kind::Servers, &id).await,
    );
    assert_eq!(
        still.map(|r| r.status).as_deref(),
        Some("running"),
        "{}",
        case.who()
    );
    sandbox.clear_faults();

    act(case, &sandbox, p.as_ref(), &id, PowerAction::Off).await;

    // A poll that fails while waiting is the error, never the state.
    case.ok(
        "power-on",
        p.power(Kind::Servers, &id, PowerAction::On).await,
    );
    sandbox.add_fault(FaultRule::new(
        case.get_route(),
        Fault::Status { code: 503 },
    ));
    let e = case.refused(
        "a wait whose polls fail",
        p.wait_power(Kind::Servers, &id, PowerAction::On, READY)
            .await,
    );
    assert_eq!(e.class, ErrorClass::Transient, "{}: {e}", case.who());
    sandbox.clear_faults();
    let on = case.ok(
        "wait after power-on",
        p.wait_power(Kind::Servers, &id, PowerAction::On, READY)
            .await,
    );
    assert_eq!(on.status, "running", "{}", case.who());

    act(case, &sandbox, p.as_ref(), &id, PowerAction::Reboot).await;
    sandbox.shutdown().await;
}
