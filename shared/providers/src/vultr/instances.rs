//! Vultr instances (`/instances`) as `servers`: the wire type, the mapping to the universal record
//! (status normalisation, the config's `image` vocabulary), and create / update / delete.
//!
//! It translates decided changes into requests; it never decides whether to make them, and never
//! logs a request body (user data and tags travel in it).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use stackdock_core::plan::FieldChange;
use stackdock_core::record::{Attrs, ServerAttrs};
use stackdock_core::{FieldValue, Kind, Record};

use super::Vultr;
use super::client::{
    self, Collection, Write, base64, decode_object, get_existing, invalid, lenient, non_empty,
    not_in_place, poll_object, required_str, send_changes, spec_set, update_route,
};
use crate::adapter::{KindAdapter, Readiness, Update};
use crate::wait::Poll;
use crate::{DockContext, Listed, PowerAction, ProviderError, Request};

const ROUTE: &str = "/instances";
const ROUTE_ID: &str = "/instances/{id}";
const COLLECTION: Collection = Collection {
    kind: Kind::Servers,
    route: ROUTE,
    route_id: ROUTE_ID,
    list_key: "instances",
    one_key: "instance",
    item: to_record,
    value: to_record,
    write: Write::Patch,
};

/// How long an update waits for GET to show a new plan. Vultr reports a resize with a delay
/// ([tf-vultr] `waitForPlanUpgrade` waits up to 60 min; resizes finish in minutes).
const PLAN_CHANGE_TIMEOUT: Duration = Duration::from_secs(20 * 60);

// ---------------------------------------------------------------------------------------------
// Wire type

/// The fields of an instance object this adapter reads ([govultr] instance.go `Instance`). The
/// whole object is kept separately as `fullApiData`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(super) struct Instance {
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub label: String,
    #[serde(deserialize_with = "lenient::string")]
    pub region: String,
    #[serde(deserialize_with = "lenient::string")]
    pub plan: String,
    #[serde(deserialize_with = "lenient::string")]
    pub main_ip: String,
    #[serde(deserialize_with = "lenient::string")]
    pub status: String,
    #[serde(deserialize_with = "lenient::string")]
    pub power_status: String,
    #[serde(deserialize_with = "lenient::string")]
    pub server_status: String,
    #[serde(deserialize_with = "lenient::uint")]
    pub os_id: u64,
    #[serde(deserialize_with = "lenient::uint")]
    pub app_id: u64,
    #[serde(deserialize_with = "lenient::string")]
    pub image_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub snapshot_id: String,
    #[serde(deserialize_with = "lenient::strings")]
    pub tags: Vec<String>,
}

/// `POST /instances` ([vultr-spec] create_instance; [govultr] `InstanceCreateReq`): exactly one
/// deploy source is set. Fields in alphabetical order, as serde_json's map wrote them before this
/// type existed, so the bytes sent did not change. Its `Debug` leaves out the user data.
#[derive(Serialize)]
pub(super) struct CreateBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    app_id: Option<u64>,
    hostname: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_id: Option<String>,
    label: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    os_id: Option<u64>,
    plan: &'a str,
    region: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sshkey_id: Vec<String>,
    tags: Vec<String>,
    /// Base64 of the cloud-init user data.
    #[serde(skip_serializing_if = "Option::is_none")]
    user_data: Option<String>,
}

impl std::fmt::Debug for CreateBody<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateBody")
            .field("label", &self.label)
            .field("region", &self.region)
            .field("plan", &self.plan)
            .finish_non_exhaustive()
    }
}

/// `PATCH /instances/{id}` ([vultr-spec] update_instance): only the fields that change.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub(super) struct UpdateBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<String>>,
}

impl UpdateBody {
    fn is_empty(&self) -> bool {
        *self == UpdateBody::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Mapping

/// The normalised server status (running, stopped, pending, error, unknown), from the three
/// fields the spec (`fixtures/specs/vultr`) gives them:
/// - `status` (`active`, `pending`, `suspended`, `resizing`): pending and resizing are
///   transitions, a suspended instance is stopped by Vultr;
/// - `server_status` (`none`, `locked`, `installingbooting`, `ok`): an install in progress is
///   `pending` whatever the power state says (Vultr reports `stopped` while it installs;
///   [tf-vultr] waits on `status` first, then on `power_status`);
/// - `power_status` (`running`, `stopped`) for an active instance; anything else is `unknown`
///   (the raw values stay in `fullApiData`).
pub(super) fn status(i: &Instance) -> String {
    let status = i.status.to_ascii_lowercase();
    let server = i.server_status.to_ascii_lowercase();
    if matches!(status.as_str(), "pending" | "installing" | "resizing")
        || matches!(server.as_str(), "installing" | "installingbooting")
    {
        return "pending".to_owned();
    }
    if status == "suspended" {
        return "stopped".to_owned();
    }
    match i.power_status.to_ascii_lowercase().as_str() {
        "running" => "running",
        "stopped" => "stopped",
        _ => "unknown",
    }
    .to_owned()
}

/// What an instance was deployed from, in the config's vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Source {
    Os(u64),
    App(u64),
    Image(String),
    Snapshot(String),
}

impl Source {
    /// Parses the config's `image` (`os:<id>`, `app:<id>`, `image:<id>`, `snapshot:<id>`).
    pub(super) fn parse(image: &str) -> Option<Source> {
        let (scheme, id) = image.split_once(':')?;
        let id = id.trim();
        let number = || id.parse::<u64>().ok().filter(|n| *n != 0);
        match scheme {
            "os" => number().map(Source::Os),
            "app" => number().map(Source::App),
            "image" if !id.is_empty() => Some(Source::Image(id.to_owned())),
            "snapshot" if !id.is_empty() => Some(Source::Snapshot(id.to_owned())),
            _ => None,
        }
    }

    /// Reconstructs the source from an instance. Vultr also fills `os_id` for app, image and
    /// snapshot deployments (with the app's or a placeholder OS), so those ids win over `os_id`.
    pub(super) fn of(i: &Instance) -> Option<Source> {
        if !i.snapshot_id.is_empty() {
            Some(Source::Snapshot(i.snapshot_id.clone()))
        } else if i.app_id != 0 {
            Some(Source::App(i.app_id))
        } else if !i.image_id.is_empty() {
            Some(Source::Image(i.image_id.clone()))
        } else if i.os_id != 0 {
            Some(Source::Os(i.os_id))
        } else {
            None
        }
    }

    /// The config value.
    pub(super) fn config_value(&self) -> String {
        match self {
            Source::Os(id) => format!("os:{id}"),
            Source::App(id) => format!("app:{id}"),
            Source::Image(id) => format!("image:{id}"),
            Source::Snapshot(id) => format!("snapshot:{id}"),
        }
    }
}

/// The server record of one instance object.
pub(super) fn to_record(
    ctx: &DockContext,
    route: &str,
    value: impl Listed,
) -> Result<Record, ProviderError> {
    let i: Instance = decode_object(&ctx.dock, route, &value)?;
    client::require_id(ctx, route, Kind::Servers, &i.id)?;
    // 0.0.0.0 is what Vultr shows before an address is assigned: not an address.
    let ip = non_empty(&i.main_ip).filter(|ip| ip != "0.0.0.0");
    let attrs = Attrs::Servers(ServerAttrs {
        instance_type: non_empty(&i.plan),
        ip_address: ip,
        image: Source::of(&i).map(|s| s.config_value()),
        tags: i.tags.iter().filter(|t| !t.is_empty()).cloned().collect(),
    });
    Ok(client::record(
        ctx,
        &i.id,
        &i.label,
        status(&i),
        &i.region,
        attrs,
        value,
    ))
}

/// Whether `wait_ready` is done with a server.
pub(super) fn is_ready(record: &Record) -> bool {
    record.status == "running"
}

// ---------------------------------------------------------------------------------------------
// Operations

/// The full tag set to write: the user's tags plus the ownership tag, which must never be lost
/// (it is how a resource is found again after a crash).
fn tag_set(user: impl IntoIterator<Item = String>, owner_tag: &str) -> Vec<String> {
    let mut tags: std::collections::BTreeSet<String> =
        user.into_iter().filter(|t| !t.is_empty()).collect();
    if !owner_tag.is_empty() {
        tags.insert(owner_tag.to_owned());
    }
    tags.into_iter().collect()
}

/// The create request body ([vultr-spec] create_instance; [govultr] `InstanceCreateReq`).
pub(super) fn create_body<'a>(
    ctx: &DockContext,
    request: &Request<'a>,
) -> Result<CreateBody<'a>, ProviderError> {
    let route = format!("POST {ROUTE}");
    let spec = request.spec;
    let region = required_str(ctx, &route, Kind::Servers, spec, "region")?;
    let plan = required_str(ctx, &route, Kind::Servers, spec, "plan")?;
    let image = required_str(ctx, &route, Kind::Servers, spec, "image")?;
    let source = Source::parse(image).ok_or_else(|| {
        invalid(
            ctx,
            &route,
            format!(
                "servers.{}: image `{image}` is not a Vultr deploy source; write `os:<id>`, `app:<id>`, `image:<id>` or `snapshot:<id>`",
                spec.name
            ),
        )
    })?;
    let mut body = CreateBody {
        app_id: None,
        hostname: &spec.name,
        image_id: None,
        label: &spec.name,
        os_id: None,
        plan,
        region,
        snapshot_id: None,
        sshkey_id: spec_set(spec, "ssh_keys").into_iter().collect(),
        tags: tag_set(spec_set(spec, "tags"), &spec.owner_tag),
        user_data: request.user_data.map(|data| base64(data.as_bytes())),
    };
    match source {
        Source::Os(id) => body.os_id = Some(id),
        Source::App(id) => body.app_id = Some(id),
        Source::Image(id) => body.image_id = Some(id),
        Source::Snapshot(id) => body.snapshot_id = Some(id),
    }
    Ok(body)
}

/// The PATCH body for in-place changes (the new plan, if one is asked for, is in it).
pub(super) fn update_body(
    ctx: &DockContext,
    changes: &[FieldChange],
    owner_tag: &str,
) -> Result<UpdateBody, ProviderError> {
    let route = update_route(&COLLECTION);
    let mut body = UpdateBody::default();
    for c in changes {
        match (c.field.as_str(), &c.after) {
            ("name", Some(FieldValue::Str(name))) => body.label = Some(name.to_string()),
            ("plan", Some(FieldValue::Str(plan))) => body.plan = Some(plan.to_string()),
            ("tags", after) => {
                let user = after
                    .as_ref()
                    .and_then(FieldValue::as_set)
                    .cloned()
                    .unwrap_or_default();
                body.tags = Some(tag_set(user, owner_tag));
            }
            _ => return Err(not_in_place(ctx, &route, COLLECTION.kind, c)),
        }
    }
    Ok(body)
}

/// Polls until GET reports `plan` for server `id` (Vultr shows a resize with a delay).
async fn wait_for_plan(v: &Vultr, id: &str, plan: &str) -> Result<Record, ProviderError> {
    let what = format!("server {id} to report plan {plan}");
    poll_object(
        v,
        &COLLECTION,
        id,
        &what,
        PLAN_CHANGE_TIMEOUT,
        |r| match &r.attrs {
            Attrs::Servers(a) if a.instance_type.as_deref() == Some(plan) => Poll::Ready(r),
            Attrs::Servers(a) => Poll::Pending(format!(
                "plan {}",
                a.instance_type.as_deref().unwrap_or("unknown")
            )),
            _ => Poll::Pending(r.status.to_string()),
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// The kind adapter

/// Servers are Vultr instances (`/instances`).
#[derive(Debug)]
pub(super) struct Instances;

#[async_trait::async_trait]
impl KindAdapter<Vultr> for Instances {
    fn collection(&self) -> &'static Collection {
        &COLLECTION
    }

    fn kind(&self) -> Kind {
        Kind::Servers
    }

    /// Sends the create once and returns the instance as Vultr answered it (pending).
    async fn create(&self, v: &Vultr, request: Request<'_>) -> Result<Record, ProviderError> {
        let body = create_body(&v.account.ctx, &request)?;
        client::create(v, &COLLECTION, &body).await
    }

    /// One PATCH with every change; after a resize, waits until GET reports the new plan.
    async fn update(&self, v: &Vultr, u: Update<'_>) -> Result<Record, ProviderError> {
        let id = u.id;
        let body = update_body(&v.account.ctx, u.changes, &u.request.spec.owner_tag)?;
        if body.is_empty() {
            return get_existing(v, &COLLECTION, id).await;
        }
        let answer = send_changes(v, &COLLECTION, id, &body).await?;
        match &body.plan {
            Some(plan) => wait_for_plan(v, id, plan).await,
            None => client::updated(v, &COLLECTION, &update_route(&COLLECTION), id, answer).await,
        }
    }

    /// `POST /instances/{id}/start`, `/halt` or `/reboot` ([vultr-spec] start-instance,
    /// halt-instance, reboot-instance): no body, 204; the power state follows.
    async fn power(&self, v: &Vultr, id: &str, action: PowerAction) -> Result<(), ProviderError> {
        let verb = power_verb(action);
        let route = format!("{ROUTE_ID}/{verb}");
        let path = format!("{ROUTE}/{id}/{verb}");
        let _: serde_json::Value = v.account.client.post_empty(&route, &path, &[]).await?;
        Ok(())
    }

    fn readiness(&self, record: &Record) -> Readiness {
        Readiness::when(is_ready(record))
    }
}

/// The last segment of a power action's route.
pub(super) fn power_verb(action: PowerAction) -> &'static str {
    match action {
        PowerAction::On => "start",
        PowerAction::Off => "halt",
        PowerAction::Reboot => "reboot",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorClass;
    use crate::provider::assert_no_secret;
    use crate::vultr::client::testing::{ctx, fixture, fixture_records};
    use serde_json::json;
    use stackdock_core::plan::ResourceSpec;
    use stackdock_core::record::owner_tag;

    const FIXTURE: &str = include_str!("../../../../fixtures/vultr/instances.json");

    fn server(r: &Record) -> &ServerAttrs {
        match &r.attrs {
            Attrs::Servers(a) => a,
            other => panic!("not a server: {other:?}"),
        }
    }

    #[test]
    fn fixture_instances_map_to_server_records() {
        let records = fixture_records(&COLLECTION, FIXTURE);
        // (name, status, region, plan, ip, image)
        type Row<'a> = (
            &'a str,
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
        );
        let got: Vec<Row<'_>> = records
            .iter()
            .map(|r| {
                let a = server(r);
                (
                    r.name.as_str(),
                    r.status.as_str(),
                    r.region.as_deref(),
                    a.instance_type.as_deref(),
                    a.ip_address.as_deref(),
                    a.image.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "legacy-mail",
                    "running",
                    Some("ewr"),
                    Some("vc2-1c-2gb"),
                    Some("198.51.100.21"),
                    Some("os:2136")
                ),
                (
                    "ci-runner",
                    "running",
                    Some("ord"),
                    Some("vc2-2c-4gb"),
                    Some("198.51.100.22"),
                    Some("os:2284")
                ),
                (
                    "old-wordpress",
                    "stopped",
                    Some("ams"),
                    Some("vc2-1c-1gb"),
                    Some("198.51.100.23"),
                    Some("os:1743")
                ),
            ]
        );
        let r = &records[0];
        assert_eq!(
            r.provider_resource_id,
            "3b8f1d2a-6c4e-4f7a-9b1c-0d2e3f4a5b01"
        );
        assert_eq!(
            (r.org_id.as_str(), r.dock_id.as_str()),
            ("acme", "acme/vultr-main")
        );
        assert_eq!(
            server(r).tags,
            ["mail", "owner:ops"].map(String::from).into()
        );
        assert!(!r.content_hash.is_empty());
        assert_eq!(r.full_api_data.to_value()["hostname"], "legacy-mail");
    }

    #[test]
    fn every_secret_field_in_the_fixture_is_redacted() {
        for v in fixture(&COLLECTION, FIXTURE) {
            let present: Vec<&str> = ["default_password", "kvm", "user_data"]
                .into_iter()
                .filter(|k| v.get(k).is_some())
                .collect();
            assert!(present.contains(&"default_password") && present.contains(&"kvm"));
            let r = to_record(&ctx(), "GET /instances", v).expect("maps");
            for k in present {
                assert!(r.full_api_data.get(k).is_none(), "{k} kept");
            }
            assert_no_secret(&r);
        }
    }

    #[test]
    fn status_mapping_table() {
        let cases = [
            // (status, power_status, server_status) → normalised
            ("active", "running", "ok", "running"),
            ("active", "stopped", "ok", "stopped"),
            ("active", "pending", "ok", "unknown"),
            ("resizing", "resizing", "ok", "pending"),
            ("suspended", "suspended", "ok", "stopped"),
            ("active", "Running", "ok", "running"),
            ("active", "Rebooting", "ok", "unknown"),
            ("suspended", "running", "ok", "stopped"),
            ("resizing", "running", "ok", "pending"),
            ("active", "running", "none", "running"),
            ("active", "", "ok", "unknown"),
            ("", "", "", "unknown"),
            ("pending", "running", "ok", "pending"),
            ("installing", "stopped", "none", "pending"),
            ("active", "stopped", "installingbooting", "pending"),
            ("active", "running", "installing", "pending"),
            ("Pending", "stopped", "locked", "pending"),
            ("active", "running", "locked", "running"),
        ];
        for (st, power, server, want) in cases {
            let i = Instance {
                status: st.into(),
                power_status: power.into(),
                server_status: server.into(),
                ..Instance::default()
            };
            assert_eq!(status(&i), want, "{st}/{power}/{server}");
        }
        // A missing power_status decodes as empty: unknown.
        let i: Instance =
            serde_json::from_value(json!({"id": "x", "status": "active"})).expect("decodes");
        assert_eq!(status(&i), "unknown");
    }

    #[test]
    fn image_vocabulary_round_trips() {
        let parse = [
            ("os:2284", Some(Source::Os(2284))),
            ("app:37", Some(Source::App(37))),
            ("image:abc-123", Some(Source::Image("abc-123".into()))),
            ("snapshot:9f1", Some(Source::Snapshot("9f1".into()))),
            ("os:0", None),
            ("os:ubuntu", None),
            ("image:", None),
            ("ubuntu-24-04-x64", None),
            ("iso:1", None),
            ("", None),
        ];
        for (text, want) in parse {
            assert_eq!(Source::parse(text), want, "{text}");
            if let Some(s) = want {
                assert_eq!(s.config_value(), text);
            }
        }
        let of = [
            (
                json!({"os_id": 2284, "app_id": 0, "image_id": "", "snapshot_id": ""}),
                Some("os:2284"),
            ),
            (
                json!({"os_id": 186, "app_id": 37, "image_id": ""}),
                Some("app:37"),
            ),
            (
                json!({"os_id": 159, "app_id": 0, "image_id": "img-1"}),
                Some("image:img-1"),
            ),
            (
                json!({"os_id": 164, "snapshot_id": "snap-1"}),
                Some("snapshot:snap-1"),
            ),
            (
                json!({"os_id": null, "app_id": null, "image_id": null}),
                None,
            ),
            (json!({}), None),
        ];
        for (v, want) in of {
            let i: Instance = serde_json::from_value(v.clone()).expect("decodes");
            assert_eq!(
                Source::of(&i).map(|s| s.config_value()).as_deref(),
                want,
                "{v}"
            );
        }
    }

    #[test]
    fn empty_values_map_to_none_and_the_id_names_an_unlabelled_server() {
        let v = json!({"id": "abc", "label": "", "main_ip": "", "plan": null, "region": "",
                       "power_status": "running", "tags": null, "extra": [1, 2]});
        let r = to_record(&ctx(), "GET /instances", v).expect("maps");
        assert_eq!(r.name, "abc");
        assert_eq!(r.region, None);
        let a = server(&r);
        assert_eq!(
            (
                a.instance_type.as_deref(),
                a.ip_address.as_deref(),
                a.image.as_deref()
            ),
            (None, None, None)
        );
        assert!(a.tags.is_empty());
        let pending = to_record(
            &ctx(),
            "GET /instances",
            json!({"id": "p", "main_ip": "0.0.0.0"}),
        )
        .expect("maps");
        assert_eq!(server(&pending).ip_address, None);
    }

    fn spec(fields: &[(&str, FieldValue)]) -> ResourceSpec {
        ResourceSpec {
            name: "web-1".into(),
            owner_tag: owner_tag("acme", "servers.web-1"),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).into(), v.clone()))
                .collect(),
            protect: false,
        }
    }

    #[test]
    fn create_body_carries_one_source_the_owner_tag_and_encoded_user_data() {
        let s = spec(&[
            ("region", "ewr".into()),
            ("plan", "vc2-1c-1gb".into()),
            ("image", "os:2284".into()),
            ("tags", FieldValue::set(["web", "prod"])),
            ("ssh_keys", FieldValue::set(["key-1"])),
            ("user_data_file", "cloud-init.yaml".into()),
        ]);
        let req = Request {
            spec: &s,
            user_data: Some("#cloud-config\n"),
            attach_to_id: None,
            env: None,
        };
        let body = serde_json::to_value(create_body(&ctx(), &req).expect("valid")).expect("json");
        assert_eq!(
            body,
            json!({
                "region": "ewr", "plan": "vc2-1c-1gb", "label": "web-1", "hostname": "web-1",
                "os_id": 2284, "tags": ["prod", s.owner_tag, "web"], "sshkey_id": ["key-1"],
                "user_data": "I2Nsb3VkLWNvbmZpZwo="
            })
        );
        for (image, key) in [
            ("app:37", "app_id"),
            ("image:i-1", "image_id"),
            ("snapshot:s-1", "snapshot_id"),
        ] {
            let s = spec(&[
                ("region", "ewr".into()),
                ("plan", "p".into()),
                ("image", image.into()),
            ]);
            let body = create_body(&ctx(), &Request::of(&s)).expect("valid");
            let body = serde_json::to_value(body).expect("json");
            let body = body.as_object().expect("object");
            let sources: Vec<&str> = ["os_id", "app_id", "image_id", "snapshot_id"]
                .into_iter()
                .filter(|k| body.contains_key(*k))
                .collect();
            assert_eq!(sources, vec![key]);
            assert!(!body.contains_key("sshkey_id") && !body.contains_key("user_data"));
        }
    }

    #[test]
    fn a_bad_image_is_invalid_and_names_the_dock_and_the_accepted_forms() {
        let s = spec(&[
            ("region", "ewr".into()),
            ("plan", "p".into()),
            ("image", "ubuntu-24-04".into()),
        ]);
        let e = create_body(&ctx(), &Request::of(&s)).expect_err("invalid");
        assert_eq!(e.class, ErrorClass::Invalid);
        let text = e.to_string();
        for part in [
            "vultr-main",
            "ubuntu-24-04",
            "os:<id>",
            "app:<id>",
            "image:<id>",
            "snapshot:<id>",
        ] {
            assert!(text.contains(part), "{text}");
        }
        let s = spec(&[("plan", "p".into()), ("image", "os:1".into())]);
        let e = create_body(&ctx(), &Request::of(&s)).expect_err("no region");
        assert!(e.to_string().contains("region"), "{e}");
    }

    #[test]
    fn update_body_keeps_the_owner_tag_and_refuses_other_fields() {
        let tag = owner_tag("acme", "servers.web-1");
        let change = |field: &str, after: Option<FieldValue>| FieldChange {
            field: field.into(),
            before: None,
            after,
        };
        let body = update_body(
            &ctx(),
            &[
                change("name", Some("web-2".into())),
                change("plan", Some("vc2-2c-4gb".into())),
                change("tags", Some(FieldValue::set(["a"]))),
            ],
            &tag,
        )
        .expect("in place");
        assert_eq!(body.plan.as_deref(), Some("vc2-2c-4gb"));
        assert_eq!(
            serde_json::to_value(body).expect("json"),
            json!({"label": "web-2", "plan": "vc2-2c-4gb", "tags": ["a", tag]})
        );
        let body = update_body(&ctx(), &[change("tags", None)], &tag).expect("in place");
        assert_eq!(body.plan, None);
        assert_eq!(
            serde_json::to_value(body).expect("json"),
            json!({"tags": [tag]})
        );
        let e = update_body(&ctx(), &[change("region", Some("ams".into()))], &tag)
            .expect_err("replace field");
        assert_eq!(e.class, ErrorClass::Invalid);
    }
}
