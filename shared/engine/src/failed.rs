//! What a failed create leaves in the store (design §3 `provisioningState = failed`): the
//! record, marked failed, with the provider's error kept in `provisioningError` — scrubbed of
//! what StackDock sent that may be secret and cut to a bounded size — so `inventory`, the report
//! and the API show why. A create the provider refused made nothing, so its record is keyed by
//! the entry's address (`failed:<address>`) and is already missing: the next plan creates the
//! entry again ("the last create … failed: …"), and the create that succeeds clears it.

use jiff::Timestamp;
use stackdock_core::plan::ResourceSpec;
use stackdock_core::record::{ProvisioningSource, ProvisioningState, RecordKey, failed_create_id};
use stackdock_core::{FieldValue, Kind, ProviderKind, Record};

/// The most of an error a record keeps.
pub(crate) const MAX_ERROR_BYTES: usize = 2048;

/// `error` as a record keeps it: any text StackDock sent that may hold a secret (the user data)
/// replaced by `***` (the credential is already gone: the HTTP client scrubs it), cut to
/// [`MAX_ERROR_BYTES`] on a character boundary.
pub(crate) fn scrubbed(error: &str, sent_secrets: &[&str]) -> String {
    let mut text = error.to_owned();
    for secret in sent_secrets {
        // Short values (a `1`) would blank out ordinary words; user data is never that short.
        if secret.len() >= 8 && text.contains(secret) {
            text = text.replace(secret, "***");
        }
    }
    if text.len() > MAX_ERROR_BYTES {
        let mut cut = MAX_ERROR_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// Who the record belongs to.
pub(crate) struct Owner<'a> {
    pub org: &'a str,
    pub dock_id: &'a str,
    pub provider: ProviderKind,
    pub address: &'a str,
}

/// The key of the record a refused create of `address` leaves.
pub(crate) fn refused_key(dock_id: &str, kind: Kind, address: &str) -> RecordKey {
    RecordKey {
        dock_id: dock_id.to_owned(),
        kind,
        provider_resource_id: failed_create_id(address),
    }
}

/// The record of a create of `spec` the provider refused with `error` (already scrubbed).
pub(crate) fn refused_record(
    owner: &Owner<'_>,
    kind: Kind,
    spec: &ResourceSpec,
    error: String,
    now: Timestamp,
) -> Record {
    let mut record = Record::new(
        owner.org,
        owner.dock_id,
        owner.provider,
        kind,
        failed_create_id(owner.address),
        &spec.name,
    );
    record.status = "error".into();
    record.region = spec
        .fields
        .get("region")
        .and_then(FieldValue::as_str)
        .map(Into::into);
    record.managed_by = Some(owner.address.into());
    record.provisioning_source = ProvisioningSource::Api;
    record.provisioning_state = Some(ProvisioningState::Failed);
    record.provisioning_error = Some(error);
    record.protect = spec.protect;
    // Nothing exists at the provider: no listing will ever hold it.
    record.missing_since = Some(now);
    record.updated_at = Some(now);
    record.with_hash()
}

/// The refused create's record once a create of its entry succeeded: no longer the entry's, no
/// longer failed.
pub(crate) fn cleared(mut record: Record, now: Timestamp) -> Record {
    record.managed_by = None;
    record.provisioning_state = None;
    record.provisioning_error = None;
    record.updated_at = Some(now);
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_lose_what_was_sent_and_stay_bounded() {
        let user_data = "#cloud-config\npassword: hunter2hunter2";
        let e = format!("HTTP 400: user_data `{user_data}` is too long");
        assert_eq!(
            scrubbed(&e, &[user_data]),
            "HTTP 400: user_data `***` is too long"
        );
        assert_eq!(
            scrubbed("HTTP 400: a", &["a"]),
            "HTTP 400: a",
            "short values are left"
        );
        let long = "é".repeat(MAX_ERROR_BYTES);
        let cut = scrubbed(&long, &[]);
        assert!(
            cut.len() <= MAX_ERROR_BYTES + '…'.len_utf8(),
            "{}",
            cut.len()
        );
        assert!(cut.ends_with('…'));
    }
}
