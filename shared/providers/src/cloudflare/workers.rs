//! Cloudflare Workers scripts, synced read-only as `web_services` with `subtype = "worker"`
//! (issue 18; provider-apis-2.md §3.3, §12.2): listed whole with
//! `GET /accounts/{account_id}/workers/scripts` ([cf-spec] worker-script-list-workers; [cf-go]
//! workers/script.go reads it as a `SinglePage`). Reported in the inventory and the plan's
//! unmanaged list, never planned: a file cannot declare one (`READ_ONLY_SUBTYPES`), so nothing
//! here creates, changes or deletes a script.
//!
//! A script is named by its `id` (the script name), which a Pages project could share, so its
//! record's id is `worker/<name>` (a Pages project name has no `/`). Cloudflare has no JSON read
//! of one script (`GET …/scripts/{name}` answers the script's code), so one is read from the
//! listing. A script has no status: listed is `running` (§3.4). `lastDeployAt` is `modified_on`,
//! `lastDeployId` the `etag` (§12.2). The list payload carries no secret (bindings and their
//! values are on the settings endpoints, which StackDock never reads).

use serde::Deserialize;
use serde_json::Value;
use stackdock_core::record::{Attrs, WebServiceAttrs};
use stackdock_core::{Kind, Record};

use super::declaration::WORKERS_ROUTE;
use super::{Cloudflare, Collection, seal, skeleton};
use crate::http::ListOptions;
use crate::object::text;
use crate::{DockContext, Listed, ProviderError};

/// The subtype of a Workers script (`stackdock_core::web_service::READ_ONLY_SUBTYPES`).
const SUBTYPE: &str = "worker";

/// What a script's record id starts with.
const ID_PREFIX: &str = "worker/";

pub(super) static WORKERS: Collection = Collection {
    kind: Kind::WebServices,
    list: WORKERS_ROUTE,
    one: WORKERS_ROUTE,
    key: super::RESULT,
    map: |ctx, item| script_record(ctx, item),
};

/// [cf-spec] `workers_script-response`: every field read leniently (a value of another type reads
/// as absent); a script without an `id` fails the listing, saying so.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ScriptWire {
    id: Value,
    created_on: Value,
    modified_on: Value,
    etag: Value,
    usage_model: Value,
}

/// A script object → the universal record (id `worker/<name>`).
fn script_record(ctx: &DockContext, raw: impl Listed) -> Result<Record, String> {
    let wire: ScriptWire = raw.decode().map_err(|e| format!("a Workers script: {e}"))?;
    let name = text(&wire.id).ok_or("a Workers script without an `id`")?;
    let mut record = skeleton(ctx, Kind::WebServices, &format!("{ID_PREFIX}{name}"), &name);
    record.status = "running".into();
    record.attrs = Attrs::WebServices(Box::new(WebServiceAttrs {
        subtype: Some(SUBTYPE.to_owned()),
        provider_status: text(&wire.usage_model),
        last_deploy_at: text(&wire.modified_on).or_else(|| text(&wire.created_on)),
        last_deploy_id: text(&wire.etag),
        ..WebServiceAttrs::default()
    }));
    Ok(seal(record, raw.to_value()))
}

impl Cloudflare {
    /// Every script of the account, in one request; none without `account_id`.
    pub(super) async fn workers(&self) -> Result<Vec<Record>, ProviderError> {
        let Some(account) = self.account_id() else {
            return Ok(Vec::new());
        };
        let options = ListOptions::new()
            .whole()
            .path(format!("/accounts/{account}/workers/scripts"));
        self.list_with(&WORKERS, &options).await
    }

    /// Script `id` (`worker/<name>`) from the listing; `None` when the account has none so named.
    pub(super) async fn worker(&self, id: &str) -> Result<Option<Record>, ProviderError> {
        Ok(self
            .workers()
            .await?
            .into_iter()
            .find(|r| r.provider_resource_id == id))
    }

    /// The refusal of any change to script `id`: Workers are synced read-only.
    pub(super) fn read_only(&self, route: &str, id: &str) -> ProviderError {
        self.invalid(
            route,
            format!(
                "{id} is a Cloudflare Workers script, which StackDock syncs read-only: change it with wrangler or the dashboard"
            ),
        )
    }
}

/// Whether record id `id` names a Workers script.
pub(super) fn is_worker(id: &str) -> bool {
    id.starts_with(ID_PREFIX)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::cloudflare::tests::ctx;

    fn script() -> Value {
        json!({
            "id": "edge-auth",
            "created_on": "2024-01-01T00:00:00Z",
            "modified_on": "2024-03-05T12:30:00Z",
            "etag": "ea95132c15732412d22c1476fa83f27a",
            "usage_model": "bundled",
            "logpush": false,
            "placement_mode": "smart",
            "tail_consumers": [{"service": "my-log-consumer"}],
        })
    }

    #[test]
    fn a_script_maps_to_a_read_only_web_service() {
        let r = script_record(&ctx(), script()).expect("maps");
        assert_eq!(
            (
                r.provider_resource_id.as_str(),
                r.name.as_str(),
                r.status.as_str()
            ),
            ("worker/edge-auth", "edge-auth", "running")
        );
        let Attrs::WebServices(a) = &r.attrs else {
            panic!("not a web service")
        };
        assert_eq!(a.subtype.as_deref(), Some("worker"));
        assert_eq!(a.last_deploy_at.as_deref(), Some("2024-03-05T12:30:00Z"));
        assert_eq!(
            a.last_deploy_id.as_deref(),
            Some("ea95132c15732412d22c1476fa83f27a")
        );
        assert!(a.custom_domains.is_empty() && a.env_var_names.is_empty());
        assert!(r.read_only().is_some());
        assert_eq!(r.full_api_data.get("placement_mode"), Some(json!("smart")));
        assert!(!r.content_hash.is_empty());
        assert!(is_worker(&r.provider_resource_id) && !is_worker("marketing"));
    }

    #[test]
    fn a_script_without_an_id_is_refused_and_odd_fields_are_absent() {
        assert!(script_record(&ctx(), json!({"etag": "x"})).is_err());
        assert!(script_record(&ctx(), json!({"id": ""})).is_err());
        let r = script_record(&ctx(), json!({"id": "a", "modified_on": 7, "etag": null}))
            .expect("maps");
        let Attrs::WebServices(a) = &r.attrs else {
            panic!("not a web service")
        };
        assert_eq!(
            (a.last_deploy_at.as_deref(), a.last_deploy_id.as_deref()),
            (None, None)
        );
    }
}
