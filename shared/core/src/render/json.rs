//! The JSON renderer: the plan as a saved, machine-readable document, and the parser apply uses
//! to read it back.
//!
//! The document is the plan's own serde form (so `parse(&render(plan)) == plan`), pretty-printed
//! with fields in declaration order: `format_version`, `org`, `config_digest`, `inventory_digest`,
//! `digest`, `summary`, `dock_changes` (only in a proposal's plan that changes a dock: `dock`,
//! `provider`, `change` = added/changed/removed, `settings` of `{setting, deployed, proposed}`),
//! then `actions`, each with `action`, `address`, `dock`, `provider`, `kind`,
//! `name`, `provider_id`, `changes` (`{field, before, after}`), `reason`, `spec`, `depends_on` and
//! `allowed`. Every map in the plan is a `BTreeMap`, so the same plan always gives the same bytes.

use crate::plan::{FORMAT_VERSION, Plan};

/// Renders `plan` as pretty JSON ending in a newline.
pub fn render(plan: &Plan) -> String {
    // Serialising a `Plan` cannot fail: every map key is a string and no value is a float.
    match serde_json::to_string_pretty(plan) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        Err(e) => format!("{{\"error\": {:?}}}\n", e.to_string()),
    }
}

/// Reads a plan saved by [`render`].
///
/// # Errors
/// A message for the user when the text is not JSON, is not a StackDock plan, was written by a
/// StackDock with a different `format_version`, or does not match the plan's shape.
pub fn parse(text: &str) -> Result<Plan, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("the saved plan is not valid JSON: {e}"))?;
    let Some(version) = value.get("format_version") else {
        return Err(
            "the saved plan has no `format_version`: it is not a StackDock plan (write one with `stackdock plan --format json`)"
                .to_owned(),
        );
    };
    if version.as_u64() != Some(u64::from(FORMAT_VERSION)) {
        return Err(format!(
            "the saved plan has format_version {version}, but this StackDock reads format_version {FORMAT_VERSION}; run `stackdock plan` again with this version"
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("the saved plan is malformed: {e}"))
}
