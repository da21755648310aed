//! What adapters read from a resource spec: its desired fields, and the one error for a field a
//! create cannot do without. The config parser checks the file; these only guard a request from
//! a spec that slipped past it, before anything is sent.

use std::collections::BTreeSet;

use stackdock_core::plan::{FieldChange, ResourceSpec};
use stackdock_core::{FieldValue, Kind};

use crate::{DockContext, ErrorClass, ProviderError};

/// The desired value of a string field.
pub(crate) fn spec_str<'a>(spec: &'a ResourceSpec, key: &str) -> Option<&'a str> {
    spec.fields.get(key).and_then(FieldValue::as_str)
}

/// A string field the create cannot do without (missing or empty): the one error every adapter
/// gives, naming the entry and the key.
pub(crate) fn required_str<'a>(
    ctx: &DockContext,
    route: &str,
    kind: Kind,
    spec: &'a ResourceSpec,
    key: &str,
) -> Result<&'a str, ProviderError> {
    spec_str(spec, key)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing(ctx, route, kind, spec, key))
}

/// The error for a field `key` the create of `spec` cannot do without.
pub(crate) fn missing(
    ctx: &DockContext,
    route: &str,
    kind: Kind,
    spec: &ResourceSpec,
    key: &str,
) -> ProviderError {
    ProviderError::new(
        ErrorClass::Invalid,
        &ctx.dock,
        route,
        format!(
            "{}.{} has no `{key}`: set it in stackdock.toml",
            kind.config_key(),
            spec.name
        ),
    )
}

/// The desired value of a set field (`tags`, `ssh_keys`); absent = empty.
pub(crate) fn spec_set(spec: &ResourceSpec, key: &str) -> BTreeSet<String> {
    spec.fields
        .get(key)
        .and_then(FieldValue::as_set)
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default()
}

/// The error for an update that cannot make `change` to a `kind` in place (a replace field
/// reached the adapter), naming the value asked for: the one message every adapter gives.
pub(crate) fn not_in_place(
    ctx: &DockContext,
    route: &str,
    kind: Kind,
    change: &FieldChange,
) -> ProviderError {
    let after = change
        .after
        .as_ref()
        .map_or_else(|| "nothing".to_owned(), ToString::to_string);
    let (field, noun) = (&change.field, kind.noun());
    ProviderError::new(
        ErrorClass::Invalid,
        &ctx.dock,
        route,
        format!(
            "a {} {noun} cannot change `{field}` to {after} in place; replace the {noun} instead",
            crate::declaration(ctx.provider).display_name
        ),
    )
}
