//! The config reference (`docs/config.md`), generated from the same key tables as the validator
//! and the JSON Schema, so the documentation cannot drift from what is accepted.

use std::fmt::Write as _;

use super::keys::{
    CREDENTIAL_KEYS, DOCK_KEYS, KeyDefault, KeyType, NOTIFY_KEYS, RECORD_KEYS, RECORD_TYPE_KEYS,
    SETTINGS_KEYS, TableKey, ZONE_KEYS, allowed_values,
};
use crate::dns::{RECORD_TYPES, caa_flags, record_types, srv_name_kept, ttl_minimum, ttl_values};
use crate::dock_settings::Declarations;
use crate::schema::{COMMON_KEYS, Change, FieldType, KeySpec, field_rule, kind_keys};
use crate::{Kind, ProviderKind};

/// The whole reference as Markdown.
pub fn markdown() -> String {
    markdown_declared(ProviderKind::dock_settings)
}

/// [`markdown`] with the providers' dock settings taken from `declarations`.
pub(crate) fn markdown_declared(declarations: Declarations) -> String {
    let mut out = String::new();
    out.push_str("# `stackdock.toml` reference\n\n");
    out.push_str("Generated from the validator's key tables by `stackdock_core::config::reference::markdown()`; ");
    out.push_str("a test keeps this file current (regenerate with `UPDATE_EXPECT=1 cargo test -p stackdock-core --test core config`).\n\n");
    out.push_str("Every mistake is reported with `file:line:column`; `stackdock validate` checks a file, and the JSON Schema in ");
    out.push_str("`schema/stackdock.schema.json` lets editors (Taplo, Even Better TOML) complete and check it.\n\n");

    out.push_str("## `[stackdock]`\n\n");
    table_keys(&mut out, SETTINGS_KEYS);
    out.push_str("\n## `[docks.<name>]`\n\nOne provider account. Dock names: lowercase letters, digits and `-`.\n\n");
    table_keys(&mut out, DOCK_KEYS);
    dock_settings(&mut out, declarations);
    out.push_str("\n### `credentials`\n\nExactly one of:\n\n");
    table_keys(&mut out, CREDENTIAL_KEYS);
    out.push_str("\nA credential is never written in the file: a key or value that looks like one is an error.\n");

    out.push_str("\n## `[notify]`\n\nOptional. Sends a message once per new occurrence (a drift that persists across many syncs is one message, its end another): ");
    out.push_str("with the dock, the addresses, the fields and the command to run. At least one of `webhook` and `sns`. ");
    out.push_str("Sent by the deployed functions (the scheduled sync's plan step and the apply worker) and by the CLI: `stackdock sync` (which then also plans and flags drift, as the scheduled sync does) and `stackdock apply`; ");
    out.push_str("`stackdock notify test` sends a test message. Deployed to Lambda (`--target lambda`), the webhook must be a secret under the stack's `SecretPrefix`.\n\n");
    table_keys(&mut out, NOTIFY_KEYS);

    out.push_str("\n## Resources\n\nEach resource is a table `[<kind>.<name>]`; the name is the resource's label at the provider ");
    out.push_str("and its address is `<kind>.<name>`.\n\n### Keys of every resource\n\n");
    resource_keys(&mut out, COMMON_KEYS);
    for kind in Kind::ALL {
        // DNS records are documented with their zone (`dns`).
        if !kind.is_declared_at_top() {
            continue;
        }
        if kind == Kind::Domains {
            dns(&mut out);
            continue;
        }
        let _ = write!(out, "\n### `[{}.<name>]`\n\n", kind.config_key());
        resource_keys(&mut out, kind_keys(kind));
        if !ProviderKind::ALL.iter().any(|p| p.supports(kind)) {
            let _ = writeln!(
                out,
                "\nNo provider supports {} yet: entries are checked as above, then refused until \
                 the providers that host them (Vercel, Cloudflare Pages) land.",
                kind.config_key()
            );
            continue;
        }
        out.push_str("\nBy provider (`in place`: changed by an update; `replace`: delete and create, only with `allow_replace`; ");
        out.push_str(
            "`at creation`: used when creating, never compared; `-`: not supported):\n\n| key |",
        );
        let providers: Vec<ProviderKind> = ProviderKind::ALL
            .into_iter()
            .filter(|p| p.supports(kind))
            .collect();
        for p in &providers {
            let _ = write!(out, " {p} |");
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(providers.len()));
        out.push('\n');
        for key in kind_keys(kind) {
            let _ = write!(out, "| `{}` |", key.key);
            for p in &providers {
                let cell = match field_rule(*p, kind, key.key).map(|r| r.change) {
                    Some(Change::InPlace) => "in place",
                    Some(Change::Replace) => "replace",
                    Some(Change::CreateOnly) => "at creation",
                    None => "-",
                };
                let _ = write!(out, " {cell} |");
            }
            out.push('\n');
        }
        if kind == Kind::WebServices {
            web_services(&mut out);
        }
    }
    out
}

/// The rules of `[web_services.<name>]` beyond its keys' types.
fn web_services(out: &mut String) {
    use crate::web_service::{READ_ONLY_SUBTYPES, REPO_PROVIDERS, SUBTYPES};
    out.push_str("\n| subtype | what | environments (`targets`) |\n|---|---|---|\n");
    for s in SUBTYPES {
        let _ = writeln!(
            out,
            "| `{}` | {} (on a `{}` dock) | {} |",
            s.name,
            s.what,
            s.provider,
            s.targets
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for (name, why) in READ_ONLY_SUBTYPES {
        let _ = writeln!(out, "\n`{name}`: {why}.");
    }
    let _ = writeln!(
        out,
        "\n`repo_provider` is one of {}. Names follow the provider's rules (Pages: 1 to 58 of `a-z`, \
         `0-9`, `-`; Vercel: 1 to 100 of `a-z`, `0-9`, `.`, `_`, `-`, without `---`).\n\n\
         ```toml\n[web_services.marketing]\ndock = \"vercel-main\"\nsubtype = \"project\"\n\
         framework = \"nextjs\"\nrepo = \"acme/marketing\"\n\
         domains = [\"www.example.com\"]\n\n[web_services.marketing.env]\n\
         API_URL = {{ secret = \"stackdock/api-url\" }}\n\
         DATABASE_URL = [\n  {{ secret = \"stackdock/db-prod\", targets = [\"production\"] }},\n  \
         {{ secret = \"stackdock/db-preview\", targets = [\"preview\", \"development\"] }},\n]\n```\n\n\
         A plan compares which variables exist in which environment (`env`: `NAME@target`) with \
         what the provider reports (`+ env API_URL@production`, `- env OLD@preview`); the values \
         are read from their source when applying (sent to the provider with the create or update \
         that needs them), never stored, logged or shown. Whether a value changed is known from \
         keyed fingerprints, never the value: each sync fingerprints what every entry's source \
         holds now (kept on the dock's status), each apply what it sent (kept on the record); a \
         plan shows `~ env API_URL@production: value changed` when they differ, `…: set` for an \
         entry StackDock never sent (an adopted project: the value is sent once), and nothing when \
         the source could not be read at the last sync (deployed, only secrets under the stack's \
         `SecretPrefix` are readable). A rotated secret is seen by the sync after the rotation. \
         A Vercel project's custom domains are read from its production deployment's aliases: a \
         project never deployed reports none.",
        REPO_PROVIDERS.map(|p| format!("`{p}`")).join(", ")
    );
}

/// The settings each provider's docks take beside the common keys.
fn dock_settings(out: &mut String, declarations: Declarations) {
    out.push_str("\n### Provider settings\n\nA provider may declare settings its docks take beside the keys above; ");
    out.push_str("on a dock of another provider such a key is an error.\n\n");
    let mut any = false;
    for p in ProviderKind::ALL {
        let settings = declarations(p);
        if settings.is_empty() {
            continue;
        }
        if any {
            out.push('\n');
        }
        any = true;
        let _ = write!(
            out,
            "#### `provider = \"{p}\"`\n\n| key | type | required | meaning |\n|---|---|---|---|\n"
        );
        for s in settings {
            let pattern = s
                .pattern
                .map(|p| format!(" Must match `{p}`."))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {}{} |",
                s.key,
                type_name(s.ty),
                yes(s.required),
                cell(s.doc),
                cell(&pattern)
            );
        }
    }
    if !any {
        out.push_str("None of today's providers declares any.\n");
    }
}

/// `[domains."<zone>"]` and its records, with what each provider hosts.
fn dns(out: &mut String) {
    out.push_str("\n### `[domains.\"<zone>\"]`\n\nA DNS zone: its name is a lowercase domain without the trailing dot, ");
    out.push_str("quoted because it holds dots.\n\n");
    table_keys(out, ZONE_KEYS);
    out.push_str("\n#### `[[domains.\"<zone>\".records]]`\n\n");
    table_keys(out, RECORD_KEYS);
    out.push_str("\nKeys that belong to some types only (elsewhere they are an error):\n\n| key | types | required there |\n|---|---|---|\n");
    for (key, types, required) in RECORD_TYPE_KEYS {
        let _ = writeln!(
            out,
            "| `{key}` | {} | {} |",
            types.join(", "),
            yes(*required)
        );
    }
    out.push_str("\nBy provider (record types hosted, lowest `ttl` in seconds):\n\n| | ");
    out.push_str(&RECORD_TYPES.join(" | "));
    out.push_str(" | minimum `ttl` |\n|---|");
    out.push_str(&"---|".repeat(RECORD_TYPES.len() + 1));
    out.push('\n');
    for p in ProviderKind::ALL {
        let _ = write!(out, "| {p} |");
        for t in RECORD_TYPES {
            let cell = if record_types(p).contains(&t) {
                "yes"
            } else {
                "-"
            };
            let _ = write!(out, " {cell} |");
        }
        let _ = writeln!(out, " {} |", ttl_minimum(p));
    }
    for p in ProviderKind::ALL {
        if let Some(kept) = ttl_values(p) {
            let list: Vec<String> = kept.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                out,
                "\n{p} keeps only these TTLs (it would round any other, so the validator refuses it): {}.",
                list.join(", ")
            );
        }
        if !caa_flags(p) {
            let _ = writeln!(
                out,
                "\n{p} has no CAA flags: its CAA records have flags 0, and other `flags` are refused."
            );
        }
        if !srv_name_kept(p, "example.com", "_sip._tcp.voice.example.com") {
            let _ = writeln!(
                out,
                "\n{p} names an SRV record by its service and protocol only: `name = \"_sip._tcp\"`, nothing after them."
            );
        }
    }
    out.push_str("\nA record is its name, type and value: the same three twice is an error, and a name with a CNAME holds ");
    out.push_str("no other record. The apex (`@`) takes no CNAME, and its NS records belong to the provider.\n");
    out.push_str("\nDigitalOcean, Vultr and Linode host DNS: a plan creates a declared zone that is missing, adopts ");
    out.push_str("the records that already exist (matched by name, type and value) and never plans the provider's own SOA and apex NS records.\n");
}

fn type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Str => "string",
        FieldType::Int => "integer",
        FieldType::Bool => "boolean",
        FieldType::StrList => "array of strings",
        FieldType::Env => "table",
    }
}

fn table_keys(out: &mut String, keys: &[TableKey]) {
    out.push_str("| key | type | required | default | meaning |\n|---|---|---|---|---|\n");
    for k in keys {
        let ty = match k.ty {
            KeyType::Field(ty) => type_name(ty).to_owned(),
            KeyType::Credentials => "`{ env = \"VAR\" }` or `{ secret = \"…\" }`".to_owned(),
            KeyType::Records => "array of tables".to_owned(),
            KeyType::RecordValue => "string, array of strings or `{ server = \"…\" }`".to_owned(),
        };
        let ty = match allowed_values(k.key) {
            Some(values) => values
                .iter()
                .map(|v| format!("`\"{v}\"`"))
                .collect::<Vec<_>>()
                .join(" \\| "),
            None => ty,
        };
        let default = match k.default {
            KeyDefault::None => String::new(),
            KeyDefault::Bool(b) => format!("`{b}`"),
            KeyDefault::Str(s) => format!("`\"{s}\"`"),
        };
        let _ = writeln!(
            out,
            "| `{}` | {ty} | {} | {default} | {} |",
            k.key,
            yes(k.required),
            cell(k.doc)
        );
    }
}

fn resource_keys(out: &mut String, keys: &[KeySpec]) {
    out.push_str("| key | type | required | meaning |\n|---|---|---|---|\n");
    for k in keys {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            k.key,
            type_name(k.ty),
            yes(k.required),
            cell(k.doc)
        );
    }
}

fn yes(required: bool) -> &'static str {
    if required { "yes" } else { "no" }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}
