//! A project's custom domains: listed with `GET /v9/projects/{idOrName}/domains` (paged with
//! `limit`, at most 100, and the millisecond `until` cursor, `pagination.next` null on the last
//! page), added with `POST /v10/projects/{idOrName}/domains` and removed with
//! `DELETE /v9/projects/{idOrName}/domains/{domain}` ([vercel-sdk] getProjectDomains,
//! addProjectDomain, removeProjectDomain; provider-apis-2.md §1.2, §1.3).
//!
//! A deployed project's custom domains are its production deployment's aliases, which the
//! projects listing carries; a project never deployed has none, so its domains are read here,
//! one listing per such project. Only production domains count (no `gitBranch`, no
//! `customEnvironmentId`), and not Vercel's own (`*.vercel.app`), as for the aliases.
//!
//! Adding a domain the project already has fails: the document says with a `400` ("If the domain
//! already exists on the project, the request will fail with a `400` status code"), and its `409`
//! is for a domain on another project. Neither names an error code, so a refused add is read
//! back: when the project's listing has the domain, the add is done (a retried apply converges);
//! otherwise the refusal stands.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stackdock_core::Record;
use stackdock_core::record::Attrs;

use super::{Vercel, fill, invalid};
use crate::error::gone_ok;
use crate::http::ListOptions;
use crate::{ErrorClass, ProviderError};

const LIST_ROUTE: &str = "/v9/projects/{idOrName}/domains";
const ADD_ROUTE: &str = "/v10/projects/{idOrName}/domains";
const ONE_ROUTE: &str = "/v9/projects/{idOrName}/domains/{domain}";

/// One project domain ([vercel-sdk] getProjectDomains `domains[]`); read leniently.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct DomainWire {
    name: Value,
    git_branch: Value,
    custom_environment_id: Value,
}

impl DomainWire {
    /// The domain's name (lower case) when it is a production custom domain.
    fn production_custom(&self) -> Option<String> {
        let name = self.name.as_str()?.to_ascii_lowercase();
        let scoped = [&self.git_branch, &self.custom_environment_id]
            .iter()
            .any(|v| v.as_str().is_some_and(|s| !s.is_empty()));
        (!scoped && !name.is_empty() && !super::projects::vercel_host(&name)).then_some(name)
    }
}

/// `POST /v10/projects/{idOrName}/domains` ([vercel-sdk] addProjectDomain).
#[derive(Debug, Serialize)]
struct AddDomain<'a> {
    name: &'a str,
}

/// The production custom domains of project `id`, every page.
pub(super) async fn custom_domains(
    dock: &Vercel,
    id: &str,
) -> Result<BTreeSet<String>, ProviderError> {
    let options = ListOptions::new().path(fill(LIST_ROUTE, id));
    let listed: Vec<DomainWire> = dock
        .account
        .client
        .list(LIST_ROUTE, "domains", &options)
        .await?;
    Ok(listed
        .iter()
        .filter_map(DomainWire::production_custom)
        .collect())
}

/// Whether a project record has no production deployment (its listing had no
/// `targets.production`): its custom domains are not in it.
pub(super) fn never_deployed(record: &Record) -> bool {
    match &record.attrs {
        Attrs::WebServices(a) => a.provider_status.is_none() && a.last_deploy_id.is_none(),
        _ => false,
    }
}

/// `record` with the custom domains of a project never deployed read from its domain listing;
/// a deployed project's record is returned as it is, without a request.
pub(super) async fn with_domains(
    dock: &Vercel,
    mut record: Record,
) -> Result<Record, ProviderError> {
    if !never_deployed(&record) {
        return Ok(record);
    }
    let domains = custom_domains(dock, &record.provider_resource_id).await?;
    if let Attrs::WebServices(a) = &mut record.attrs {
        a.custom_domains = domains;
    }
    Ok(record.with_hash())
}

/// Adds and removes custom domains so project `id` has `after` (it has `before`).
pub(super) async fn converge(
    dock: &Vercel,
    id: &str,
    before: &BTreeSet<String>,
    after: &BTreeSet<String>,
) -> Result<(), ProviderError> {
    let client = &dock.account.client;
    for domain in after.difference(before) {
        check_domain(dock, &format!("POST {ADD_ROUTE}"), domain)?;
        let path = fill(ADD_ROUTE, id);
        let added = client
            .post_json::<_, Value>(ADD_ROUTE, &path, &AddDomain { name: domain }, &[])
            .await;
        match added {
            Ok(_) => {}
            Err(e) if e.is(ErrorClass::Invalid) || e.is(ErrorClass::Conflict) => {
                if !custom_domains(dock, id).await?.contains(domain) {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
    for domain in before.difference(after) {
        check_domain(dock, &format!("DELETE {ONE_ROUTE}"), domain)?;
        let path = format!("{}/{domain}", fill(LIST_ROUTE, id));
        gone_ok(client.delete(ONE_ROUTE, &path, &[]).await)?;
    }
    Ok(())
}

/// Refuses a custom domain that cannot be a path segment.
pub(super) fn check_domain(dock: &Vercel, route: &str, domain: &str) -> Result<(), ProviderError> {
    match stackdock_core::web_service::domain_error(domain) {
        None => Ok(()),
        Some(e) => Err(invalid(&dock.account.ctx, route, e)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::DomainWire;

    fn wire(v: serde_json::Value) -> DomainWire {
        serde_json::from_value(v).expect("decodes")
    }

    #[test]
    fn only_production_custom_domains_count() {
        let own = wire(json!({"name": "site.vercel.app", "gitBranch": null}));
        assert_eq!(own.production_custom(), None);
        let custom = wire(json!({"name": "WWW.Example.com", "redirect": null}));
        assert_eq!(
            custom.production_custom().as_deref(),
            Some("www.example.com")
        );
        let branch = wire(json!({"name": "staging.example.com", "gitBranch": "dev"}));
        assert_eq!(branch.production_custom(), None);
        let env = wire(json!({"name": "qa.example.com", "customEnvironmentId": "env_1"}));
        assert_eq!(env.production_custom(), None);
        assert_eq!(wire(json!({"name": 3})).production_custom(), None);
    }
}
