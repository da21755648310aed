//! Cloudflare Workers scripts ([cf-spec] worker-script-list-workers; [cf-go] workers/script.go):
//! named by their `id` (the script name, unique in the account), listed whole in one answer
//! (the operation declares no paging parameter, and its answer no `result_info`). StackDock only
//! reads them; scripts arrive from the fixtures, from bulk seeding and from out-of-band changes
//! (a script deployed with wrangler), as a real account's do.

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::{Store, check_account, store};
use crate::Kind;
use crate::collection::stored;
use crate::editable::{Editable, resource};
use crate::pagination::{self, PageMode};
use crate::server::App;
use crate::state::{self, Slot, fields, time_do};

#[derive(Debug, Hash)]
pub(crate) struct WorkersScript {
    name: String,
    etag: String,
    usage_model: String,
    created: i64,
    modified: i64,
}

resource!(
    WorkersScript,
    key: |s| s.name.clone(),
    label: name,
    summary: |s| ("running", "", s.usage_model.as_str(), &[] as &[String]),
    edit: |s| Editable::default().plan(&mut s.usage_model),
);

impl WorkersScript {
    /// [cf-spec] `workers_script-response` (`usage_model` is `bundled` or `unbound` there;
    /// `placement_mode` is written only when a script sets it).
    fn render(&self) -> Value {
        json!({
            "id": self.name,
            "etag": self.etag,
            "usage_model": self.usage_model,
            "created_on": time_do(self.created),
            "modified_on": time_do(self.modified),
            "logpush": false,
            "tail_consumers": [],
        })
    }
}

// ---------------------------------------------------------------------------
// seeding

/// `fixtures/cloudflare/workers-scripts.json`: a listing as the API answers it.
pub(super) fn seed_fixtures(store: &mut Store) {
    for v in crate::catalog::items(crate::catalog::CLOUDFLARE_WORKERS, "result") {
        let script = WorkersScript {
            name: fields::string(&v, "id"),
            etag: fields::string(&v, "etag"),
            usage_model: fields::string(&v, "usage_model"),
            created: state::parse_time(&fields::string(&v, "created_on")),
            modified: state::parse_time(&fields::string(&v, "modified_on")),
        };
        store.workers.insert(script.name.clone(), script);
    }
}

/// Generated scripts: `bulk-worker-<n>`.
fn bulk(_store: &mut Store, slot: Slot) -> WorkersScript {
    WorkersScript {
        name: format!("bulk-worker-{:06}", slot.n),
        etag: state::det_uuid(super::SALT, slot.seq).simple().to_string(),
        usage_model: "bundled".to_owned(),
        created: slot.created,
        modified: slot.created,
    }
}

stored!(WorkersScript: Kind::Worker, in Store.workers, render: |s, _st| s.render(), bulk: bulk);

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new().route(
        "/cloudflare/client/v4/accounts/{account_id}/workers/scripts",
        get(list_scripts),
    )
}

/// `GET …/workers/scripts`: every script of the account in one answer; the operation's answer
/// is the common envelope and `result`, without `result_info`.
async fn list_scripts(
    State(app): State<App>,
    Extension(mode): Extension<PageMode>,
    Path(account): Path<String>,
) -> Result<Response, Response> {
    check_account(&account)?;
    let mut st = app.state();
    let store = store(&mut st);
    let seqs = store.workers.select(|_| true);
    let mut page = pagination::result_info_whole(seqs.len(), mode);
    page.envelope.remove("result_info");
    let listing = store
        .workers
        .listing(&seqs, page, state::fingerprint, WorkersScript::render);
    drop(st);
    Ok(listing.json("result"))
}
