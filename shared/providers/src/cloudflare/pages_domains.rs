//! A Pages project's custom domains: added with
//! `POST /accounts/{account_id}/pages/projects/{project_name}/domains` `{name}` and removed with
//! `DELETE …/domains/{domain_name}` ([cf-spec] pages-domains-add-domain, -delete-domain). The
//! project object lists them (`domains[]`), so reading them costs no request of its own.
//!
//! Adding a domain the project already has is refused (a 400 or 409 envelope with no code the
//! document names): a refused add is read back, and when the project lists the domain the add is
//! done (a retried apply converges); otherwise the refusal stands.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;
use stackdock_core::record::Attrs;

use super::Cloudflare;
use super::pages::PROJECT_ROUTE;
use crate::error::gone_ok;
use crate::{ErrorClass, ProviderError};

const DOMAINS_ROUTE: &str = "/accounts/{account_id}/pages/projects/{project_name}/domains";
const DOMAIN_ROUTE: &str =
    "/accounts/{account_id}/pages/projects/{project_name}/domains/{domain_name}";

/// `POST …/domains` ([cf-spec] `pages_domains-post`: `{"name": "example.com"}`).
#[derive(Debug, Serialize)]
struct AddDomain<'a> {
    name: &'a str,
}

/// Adds and removes custom domains so project `name` has `after` (it has `before`).
pub(super) async fn converge(
    cf: &Cloudflare,
    name: &str,
    before: &BTreeSet<String>,
    after: &BTreeSet<String>,
) -> Result<(), ProviderError> {
    let client = &cf.account.client;
    for domain in after.difference(before) {
        let route = format!("POST {DOMAINS_ROUTE}");
        check_domain(cf, &route, domain)?;
        let path = format!("{}/domains", cf.project_path(&route, name)?);
        let added = client
            .post_json::<_, Value>(DOMAINS_ROUTE, &path, &AddDomain { name: domain }, &[])
            .await;
        match added {
            Ok(_) => {}
            Err(e) if e.is(ErrorClass::Invalid) || e.is(ErrorClass::Conflict) => {
                if !listed(cf, name, &route).await?.contains(domain) {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
    for domain in before.difference(after) {
        let route = format!("DELETE {DOMAIN_ROUTE}");
        check_domain(cf, &route, domain)?;
        let path = format!("{}/domains/{domain}", cf.project_path(&route, name)?);
        gone_ok(client.delete(DOMAIN_ROUTE, &path, &[]).await)?;
    }
    Ok(())
}

/// The custom domains project `name` lists now.
async fn listed(
    cf: &Cloudflare,
    name: &str,
    route: &str,
) -> Result<BTreeSet<String>, ProviderError> {
    let path = cf.project_path(route, name)?;
    let project = cf
        .read(PROJECT_ROUTE, &path, super::pages::PAGES.map)
        .await?;
    Ok(match project.map(|p| p.attrs) {
        Some(Attrs::WebServices(a)) => a.custom_domains,
        _ => BTreeSet::new(),
    })
}

/// Refuses a custom domain that cannot be a path segment.
fn check_domain(cf: &Cloudflare, route: &str, domain: &str) -> Result<(), ProviderError> {
    match stackdock_core::web_service::domain_error(domain) {
        None => Ok(()),
        Some(e) => Err(cf.invalid(route, e)),
    }
}
