//! What a provider says about the account a dock's credential belongs to: who it is, what it
//! owes, and its limits (`stackdock docks`). Read on request, shown to the person who asked, never
//! stored or logged (an email address is personal data).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One account, as far as its provider reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    /// The account's (or team's) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// USD owed now; negative is credit (Vultr and Linode both report it so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_usd: Option<f64>,
    /// USD accrued this period and not invoiced yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_usd: Option<f64>,
    /// The provider's account status (`active`, `locked`, …), where it reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Limits the provider enforces, by name (`droplet_limit`: 25).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, i64>,
}

impl AccountInfo {
    /// `Name <email>`, either alone, or `None`.
    pub fn who(&self) -> Option<String> {
        match (&self.name, &self.email) {
            (Some(n), Some(e)) => Some(format!("{n} <{e}>")),
            (Some(n), None) => Some(n.clone()),
            (None, Some(e)) => Some(e.clone()),
            (None, None) => None,
        }
    }
}
