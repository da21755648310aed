//! DigitalOcean actions (`/actions/{id}`): the record every droplet and volume action leaves,
//! in progress for a configured number of polls, and its `GET` handler.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::{Store, nf, store};
use crate::catalog;
use crate::http::{json, wrap};
use crate::server::App;
use crate::state::{self, Lifecycle, time_do};

#[derive(Debug)]
pub(crate) struct Action {
    id: u64,
    kind: String,
    resource_id: Option<u64>,
    resource_type: &'static str,
    region: String,
    started: i64,
    polls_left: u32,
    completed_at: Option<i64>,
}

impl Action {
    fn render(&self) -> Value {
        let region = catalog::digitalocean()
            .region(&self.region)
            .cloned()
            .unwrap_or(Value::Null);
        json!({
            "id": self.id,
            "status": if self.completed_at.is_some() { "completed" } else { "in-progress" },
            "type": self.kind,
            "started_at": time_do(self.started),
            "completed_at": self.completed_at.map(time_do),
            "resource_id": self.resource_id,
            "resource_type": self.resource_type,
            "region": region,
            "region_slug": self.region,
        })
    }

    /// A poll: the action completes once its polls are used up (and stays completed).
    fn observe(&mut self) {
        if self.completed_at.is_some() {
            return;
        }
        if self.polls_left > 0 {
            self.polls_left -= 1;
        } else {
            self.completed_at = Some(state::now().max(self.started));
        }
    }
}

impl Store {
    /// Record a new action; its JSON.
    pub(super) fn new_action(
        &mut self,
        kind: &str,
        resource: Option<u64>,
        resource_type: &'static str,
        region: &str,
        lc: Lifecycle,
    ) -> Value {
        self.next_action += 1;
        let a = Action {
            id: self.next_action,
            kind: kind.to_owned(),
            resource_id: resource,
            resource_type,
            region: region.to_owned(),
            started: state::now(),
            polls_left: lc.action_polls,
            completed_at: None,
        };
        let v = a.render();
        self.actions.insert(a.id.to_string(), a);
        v
    }
}

// ---------------------------------------------------------------------------
// HTTP

pub(super) fn routes() -> Router<App> {
    Router::new().route("/digitalocean/v2/actions/{id}", get(get_action))
}

/// Unlike a droplet, an action is observed before it is rendered: the poll that uses up its
/// polls already answers `completed`.
async fn get_action(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut st = app.state();
    match store(&mut st).actions.get_mut(&id) {
        Some(a) => {
            a.observe();
            json(StatusCode::OK, &wrap("action", a.render()))
        }
        None => nf(),
    }
}
