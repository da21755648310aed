//! The provider dock-settings slot, end to end: a test declaration (beside Cloudflare's
//! production `account_id`) run through the very parser, JSON Schema, config reference and plan dock changes
//! the real providers use, by passing it where production passes `ProviderKind::dock_settings`.

use serde_json::json;

use super::json_schema::{json_schema, json_schema_declared};
use super::parse::parse_declared;
use super::reference::{markdown, markdown_declared};
use super::{Config, Diagnostics};
use crate::ProviderKind;
use crate::config::credentials::looks_like_token;
use crate::dock_settings::{DockSetting, DockSettingSpec, Flag, Text};
use crate::plan::{DockChangeKind, dock_changes};

/// A Cloudflare-style account id: required, 32 lowercase hex digits.
const ACCOUNT_ID: DockSetting<Text> = DockSetting::required(
    "account_id",
    "The account that owns the resources (32 hex digits).",
)
.pattern("^[0-9a-f]{32}$");
/// A Vercel-style team id: optional.
const TEAM_ID: DockSetting<Text> =
    DockSetting::optional("team_id", "The team whose projects the dock syncs.");
const STRICT: DockSetting<Flag> = DockSetting::optional("strict", "A boolean setting.");

const VULTR: &[DockSettingSpec] = &[ACCOUNT_ID.spec];
const DIGITALOCEAN: &[DockSettingSpec] = &[TEAM_ID.spec, STRICT.spec];

/// Vultr docks take `account_id` (required), DigitalOcean docks `team_id` and `strict`, Linode
/// docks nothing, Cloudflare docks their production settings.
fn declared(p: ProviderKind) -> &'static [DockSettingSpec] {
    match p {
        ProviderKind::Vultr => VULTR,
        ProviderKind::DigitalOcean => DIGITALOCEAN,
        ProviderKind::Linode | ProviderKind::Vercel => &[],
        ProviderKind::Cloudflare => p.dock_settings(),
    }
}

const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";

fn file(dock_body: &str) -> String {
    format!(
        "[stackdock]\norg = \"acme\"\n\n[docks.edge]\nprovider = \"vultr\"\ncredentials = {{ env = \"EDGE_TOKEN\" }}\n{dock_body}"
    )
}

fn parse(source: &str) -> Result<Config, Diagnostics> {
    parse_declared("t.toml", source, declared)
}

/// `(line, column, message, help)` of every diagnostic.
fn diagnostics(source: &str) -> Vec<(usize, usize, String, String)> {
    match parse(source) {
        Ok(_) => Vec::new(),
        Err(d) => d
            .iter()
            .map(|d| {
                (
                    d.line,
                    d.column,
                    d.message.clone(),
                    d.help.clone().unwrap_or_default(),
                )
            })
            .collect(),
    }
}

#[test]
fn a_declared_setting_parses_and_reads_back_typed() {
    // The id alone would pass for a hex secret; matching its declared pattern makes it an id.
    assert!(looks_like_token(ACCOUNT));
    let config = parse(&file(&format!("account_id = \"{ACCOUNT}\"\n"))).expect("valid");
    let dock = config.dock("edge").expect("declared");
    assert_eq!(dock.setting(&ACCOUNT_ID), Some(ACCOUNT));
    assert_eq!(dock.setting(&TEAM_ID), None);

    let source = "[stackdock]\norg = \"acme\"\n\n[docks.team]\nprovider = \"digitalocean\"\ncredentials = { env = \"T\" }\nteam_id = \"team_1\"\nstrict = true\n";
    let config = parse(source).expect("valid");
    let dock = config.dock("team").expect("declared");
    assert_eq!(dock.setting(&TEAM_ID), Some("team_1"));
    assert_eq!(dock.setting(&STRICT), Some(true));
}

#[test]
fn a_missing_required_setting_points_at_the_dock() {
    assert_eq!(
        diagnostics(&file("")),
        [(
            4,
            1,
            "dock `edge` is missing the required key `account_id`".to_owned(),
            "add `account_id = …`: The account that owns the resources (32 hex digits).".to_owned()
        )]
    );
}

#[test]
fn a_setting_of_another_provider_is_not_one_of_this_providers() {
    let source = format!(
        "{}\n[docks.lin]\nprovider = \"linode\"\ncredentials = {{ env = \"L\" }}\nteam_id = \"team_1\"\n",
        file(&format!("account_id = \"{ACCOUNT}\"\n"))
    );
    assert_eq!(
        diagnostics(&source),
        [(
            12,
            1,
            "`team_id` is not a setting of linode docks".to_owned(),
            "linode docks take: `provider`, `credentials`, `endpoint`, `regions`; remove `team_id`"
                .to_owned()
        )]
    );
    // An account id on a Linode dock is an id in the wrong place, not a credential.
    let source = format!(
        "[stackdock]\norg = \"acme\"\n\n[docks.lin]\nprovider = \"linode\"\ncredentials = {{ env = \"L\" }}\naccount_id = \"{ACCOUNT}\"\n"
    );
    let d = diagnostics(&source);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].2, "`account_id` is not a setting of linode docks");
    // On a Vultr dock the list names its own setting too.
    let d = diagnostics(&file(&format!(
        "account_id = \"{ACCOUNT}\"\nstrict = true\n"
    )));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].2, "`strict` is not a setting of vultr docks");
    assert_eq!(
        d[0].3,
        "vultr docks take: `provider`, `credentials`, `endpoint`, `regions`, `account_id`; remove `strict`"
    );
}

#[test]
fn a_key_no_provider_declares_stays_an_unknown_key() {
    let d = diagnostics(&file(&format!(
        "account_id = \"{ACCOUNT}\"\naccount_di = \"x\"\n"
    )));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].2, "unknown key `account_di` in dock `edge`");
    assert!(d[0].3.contains("`account_id`"), "{}", d[0].3);
}

#[test]
fn settings_of_a_dock_whose_provider_is_unknown_are_not_reported_twice() {
    let source = "[stackdock]\norg = \"acme\"\n\n[docks.edge]\nprovider = \"vultur\"\ncredentials = { env = \"E\" }\nteam_id = \"t\"\n";
    let d = diagnostics(source);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].2, "unknown provider `vultur` in dock `edge`");
}

#[test]
fn a_wrong_type_is_reported_at_the_value() {
    assert_eq!(
        diagnostics(&file("account_id = 42\n")),
        [(
            7,
            14,
            "`account_id` in dock `edge` must be a string, found an integer".to_owned(),
            "quote it: `account_id = \"42\"`".to_owned()
        )]
    );
    let source = "[stackdock]\norg = \"acme\"\n\n[docks.team]\nprovider = \"digitalocean\"\ncredentials = { env = \"T\" }\nstrict = \"yes\"\n";
    let d = diagnostics(source);
    assert_eq!(d.len(), 1);
    assert_eq!(
        d[0].2,
        "`strict` in dock `team` must be a boolean (true or false), found a string"
    );
}

#[test]
fn a_value_off_the_pattern_is_reported_at_the_value() {
    for value in ["023e105f", "my-account"] {
        assert_eq!(
            diagnostics(&file(&format!("account_id = \"{value}\"\n"))),
            [(
                7,
                14,
                format!("`account_id` of dock `edge` `{value}` does not match `^[0-9a-f]{{32}}$`"),
                "account_id: The account that owns the resources (32 hex digits).".to_owned()
            )]
        );
    }
    // Off the pattern and shaped like a secret (upper-case hex): an inline credential, not
    // echoed, and not also "missing".
    let short = &ACCOUNT.to_uppercase();
    let d = diagnostics(&file(&format!("account_id = \"{short}\"\n")));
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].0, d[0].1), (7, 14));
    assert_eq!(
        d[0].2,
        "the value of `account_id` in dock `edge` looks like a credential written inline"
    );
    assert!(!d[0].2.contains(short) && !d[0].3.contains(short));
}

#[test]
fn the_schema_says_per_provider_which_settings_a_dock_takes() {
    let s = json_schema_declared(declared);
    let dock = &s["definitions"]["dock"];
    assert_eq!(dock["additionalProperties"], false);
    for key in ["account_id", "team_id", "strict"] {
        assert!(
            dock["properties"][key]["description"].is_string(),
            "{key} is allowed by the dock object"
        );
    }
    let cases = dock["allOf"].as_array().expect("one case per provider");
    assert_eq!(cases.len(), ProviderKind::ALL.len());
    assert_eq!(
        cases[0],
        json!({
            "if": { "required": ["provider"], "properties": { "provider": { "const": "vultr" } } },
            "then": {
                "properties": {
                    "account_id": {
                        "type": "string",
                        "pattern": "^[0-9a-f]{32}$",
                        "description": "The account that owns the resources (32 hex digits).",
                    },
                },
                "required": ["account_id"],
                "propertyNames": { "not": { "enum": ["strict", "team_id"] } },
            },
        })
    );
    assert_eq!(cases[1]["then"]["properties"]["strict"]["type"], "boolean");
    assert!(cases[1]["then"].get("required").is_none());
    assert_eq!(cases[2]["if"]["properties"]["provider"]["const"], "linode");
    assert_eq!(cases[2]["then"]["properties"], json!({}));
    assert_eq!(
        cases[2]["then"]["propertyNames"]["not"]["enum"],
        json!(["account_id", "strict", "team_id"])
    );
    // Without declarations the dock schema is the common keys alone.
    let plain = json_schema_declared(|_| &[]);
    assert!(plain["definitions"]["dock"].get("allOf").is_none());
    // Production: the common keys, Vercel's optional `team_id` and Cloudflare's optional
    // `account_id`, each allowed on its provider's docks only.
    let production = json_schema();
    let dock = &production["definitions"]["dock"];
    assert_eq!(dock["properties"].as_object().map(|p| p.len()), Some(6));
    let cases = dock["allOf"].as_array().expect("one case per provider");
    let cloudflare = cases
        .iter()
        .find(|c| c["if"]["properties"]["provider"]["const"] == "cloudflare")
        .expect("a Cloudflare case");
    assert_eq!(
        cloudflare["then"]["properties"]["account_id"]["pattern"],
        "^[0-9a-f]{32}$"
    );
    assert!(cloudflare["then"].get("required").is_none());
}

#[test]
fn the_reference_documents_each_providers_settings() {
    let md = markdown_declared(declared);
    assert!(md.contains(
        "#### `provider = \"vultr\"`\n\n| key | type | required | meaning |\n|---|---|---|---|\n| `account_id` | string | yes | The account that owns the resources (32 hex digits). Must match `^[0-9a-f]{32}$`. |\n"
    ), "{md}");
    assert!(md.contains("| `strict` | boolean | no | A boolean setting. |"));
    assert!(!md.contains("provider = \"linode\"`"));
    assert!(markdown_declared(|_| &[]).contains("None of today's providers declares any."));
    // Vercel's `team_id`, from the production declarations.
    assert!(markdown().contains("| `team_id` | string | no | The Vercel team"));
    let production = markdown();
    assert!(
        production.contains("#### `provider = \"cloudflare\"`\n\n| key | type | required | meaning |\n|---|---|---|---|\n| `account_id` | string | no |"),
        "{production}"
    );
}

#[test]
fn a_changed_setting_shows_in_the_plans_dock_changes() {
    let deployed = parse(&file(&format!("account_id = \"{ACCOUNT}\"\n"))).expect("valid");
    let other = "9a7806061c88ada191ed06f989cc3dac";
    let proposed = parse(&file(&format!("account_id = \"{other}\"\n"))).expect("valid");
    let changes = dock_changes(&deployed.docks, &proposed.docks);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].change, DockChangeKind::Changed);
    assert_eq!(changes[0].settings.len(), 1);
    let s = &changes[0].settings[0];
    assert_eq!(
        (
            s.setting.as_str(),
            s.deployed.as_deref(),
            s.proposed.as_deref()
        ),
        ("account_id", Some(ACCOUNT), Some(other))
    );
    assert_ne!(deployed.digest(), proposed.digest());
}
