//! The one trait a provider emulation implements ([`Emulation`]) and the list of emulations the
//! server runs ([`EMULATIONS`]): the router, the seeding and inspection API and the middleware
//! reach every provider through it, so adding a provider means adding its folder and one line
//! to [`EMULATIONS`].

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use crate::collection::OutOfBand;
use crate::server::App;
use crate::state::{Mutation, ResourceSummary, State};
use crate::{Kind, Provider, SandboxError, cloudflare, digitalocean, http, linode, vercel, vultr};

/// Every emulation the server runs, in [`Provider::ALL`] order.
pub(crate) const EMULATIONS: [&dyn Emulation; 5] = [
    &vultr::Vultr,
    &digitalocean::Digitalocean,
    &linode::Linode,
    &vercel::Vercel,
    &cloudflare::Cloudflare,
];

/// The emulation of `provider`.
pub(crate) fn of(provider: Provider) -> &'static dyn Emulation {
    EMULATIONS
        .into_iter()
        .find(|e| e.provider() == provider)
        .unwrap_or(EMULATIONS[0])
}

/// What a request-body field should have held (for the provider's error message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expected {
    /// A string.
    String,
    /// An array of strings.
    StringList,
}

/// The rate-limit headers a provider sends on every answer, and the nominal limit they count
/// down from while no token bucket is set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateHeaders {
    /// How the headers say it.
    pub(crate) form: HeaderForm,
    /// Requests per window.
    pub(crate) limit: u64,
    /// The window the limit counts over.
    pub(crate) window: Duration,
}

/// How a provider's rate-limit headers say where the window stands.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HeaderForm {
    /// The limit, remaining and reset (epoch seconds) header names.
    Counters([&'static str; 3]),
    /// Structured fields of `draft-ietf-httpapi-ratelimit-headers`: `name` carries
    /// `"default";r=<remaining>;t=<seconds to reset>`, `policy` `"default";q=<limit>;w=<window>`.
    Structured {
        name: &'static str,
        policy: &'static str,
    },
}

/// One provider's emulation: its routes and state, and the bodies of the answers the middleware
/// gives on its behalf (unauthorized, rate limited, injected server errors, unknown paths).
pub(crate) trait Emulation: Sync {
    /// Which provider this is.
    fn provider(&self) -> Provider;

    /// The provider's routes (full paths, prefix included).
    fn routes(&self) -> Router<App>;

    /// Load the fixture resources.
    fn seed_fixtures(&self, st: &mut State);

    /// The provider's collections, which the seeding and inspection API reaches.
    fn collections(&self) -> &'static dyn OutOfBand;

    /// Generate `n` deterministic resources of `kind`.
    fn seed_bulk(&self, st: &mut State, kind: Kind, n: usize) -> Result<(), SandboxError> {
        self.collections().seed_bulk(st, kind, n)
    }

    /// Summaries of one collection, in listing order.
    fn summaries(&self, st: &State, kind: Kind) -> Result<Vec<ResourceSummary>, SandboxError> {
        self.collections().summaries(st, kind)
    }

    /// One resource's JSON as `GET` would return it, without observing it.
    fn peek(&self, st: &State, kind: Kind, target: &str) -> Option<Value> {
        self.collections().peek(st, kind, target)
    }

    /// An out-of-band change.
    fn mutate(&self, st: &mut State, m: &Mutation) -> Result<(), SandboxError> {
        self.collections().mutate(st, m)
    }

    /// An error body in the provider's own format.
    fn error_body(&self, status: StatusCode, message: &str) -> Value;

    /// The body of errors that do not come from the API proper (unauthorized, rate limited, an
    /// error under a 200): the same as [`Emulation::error_body`] unless the provider differs.
    fn edge_error_body(&self, status: StatusCode, message: &str) -> Value {
        self.error_body(status, message)
    }

    /// The message of a 404 for `what` (`"instance"`, `"endpoint"`, ...).
    fn not_found_message(&self, what: &str) -> String;

    /// The message of a 404 for a path the provider does not serve.
    fn unknown_endpoint_message(&self) -> String {
        self.not_found_message("endpoint")
    }

    /// The message of a 400 for a body that is not a JSON object.
    fn invalid_json_message(&self) -> &'static str;

    /// The message of a 401.
    fn unauthorized_message(&self) -> &'static str;

    /// The message of a 429.
    fn too_many_message(&self) -> &'static str;

    /// The message of a 500.
    fn internal_error_message(&self) -> &'static str {
        "Internal server error."
    }

    /// The answer to an injected 5xx.
    fn server_error(&self, code: u16) -> Response {
        http::server_error(self, code)
    }

    /// The error for a request-body field of the wrong type.
    fn field_error(&self, key: &str, expected: Expected) -> Response;

    /// The provider's rate-limit headers (`None`: it sends none).
    fn rate_headers(&self) -> Option<RateHeaders>;
}
