//! Secrets never print: `Debug` and `Display` of every type that can hold a provider token show
//! `***` instead, from the `Credential` itself up to built adapters, the engine's resolvers and its
//! `Docks` (design §6.4: a secret never enters a log line or an error message).
//!
//! The token used is distinctive so a leak anywhere in a formatted string is found by `contains`.

use std::collections::BTreeMap;
use std::sync::Arc;

use stackdock_core::ProviderKind;
use stackdock_core::config::{Config, CredentialRef, DockConfig, DriftMode, Settings};
use stackdock_engine::{Adapters, Docks, StaticResolver};
use stackdock_providers::http::{Client, DockClient, DockSettings};
use stackdock_providers::{Credential, Provider, Tuning, connect_with};

use super::conformance::ctx;

const TOKEN: &str = "tok_LEAKCANARY_0123456789abcdef";

/// Both forms of `value` hide the token; returns the `Debug` text for further checks.
fn hidden(what: &str, debug: String, display: Option<String>) {
    assert!(
        !debug.contains(TOKEN),
        "{what} Debug leaks the token: {debug}"
    );
    assert!(
        !debug.contains("LEAKCANARY"),
        "{what} Debug leaks part of the token"
    );
    assert!(
        debug.contains("***"),
        "{what} Debug does not show `***`: {debug}"
    );
    if let Some(display) = display {
        assert!(!display.contains(TOKEN), "{what} Display leaks the token");
        assert!(display.contains("***"), "{what} Display: {display}");
    }
    eprintln!("RELIABILITY input secret-in-{what} -> Debug/Display print ***");
}

#[test]
fn a_credential_prints_stars() {
    let c = Credential::new(TOKEN);
    hidden("Credential", format!("{c:?} {c:#?}"), Some(format!("{c}")));
    hidden("Option<Credential>", format!("{:?}", Some(c.clone())), None);
}

#[test]
fn dock_settings_and_clients_print_stars() {
    let http = Client::shared().expect("HTTP client");
    for provider in ProviderKind::ALL {
        let settings = DockSettings::new(&ctx(provider), Credential::new(TOKEN), None);
        hidden("DockSettings", format!("{settings:?} {settings:#?}"), None);
        let client = DockClient::new(&http, settings);
        hidden("DockClient", format!("{client:?} {client:#?}"), None);
    }
}

#[test]
fn built_adapters_print_no_token() {
    let http = Client::shared().expect("HTTP client");
    for provider in ProviderKind::ALL {
        let settings = DockSettings::new(&ctx(provider), Credential::new(TOKEN), None);
        let adapter: Arc<dyn Provider> =
            connect_with(ctx(provider), &http, settings, Tuning::default());
        hidden(
            &format!("{provider}-adapter"),
            format!("{adapter:?} {adapter:#?}"),
            None,
        );
    }
}

fn config() -> Config {
    let docks = ProviderKind::ALL
        .iter()
        .map(|p| {
            let name = format!("{p}-main");
            (
                name.clone(),
                DockConfig {
                    name,
                    provider: *p,
                    credentials: CredentialRef::Env("TOKEN_VAR".into()),
                    endpoint: None,
                    regions: None,
                    settings: Default::default(),
                },
            )
        })
        .collect();
    Config {
        settings: Settings {
            org: "acme".into(),
            prune: false,
            drift: DriftMode::Flag,
            table_prefix: "stackdock".into(),
            schedule: None,
        },
        docks,
        resources: Vec::new(),
        notify: None,
    }
}

#[test]
fn the_engines_resolver_and_docks_print_stars() {
    let resolver = StaticResolver(
        ProviderKind::ALL
            .iter()
            .map(|p| (*p, Credential::new(TOKEN)))
            .collect::<BTreeMap<_, _>>(),
    );
    hidden(
        "StaticResolver",
        format!("{resolver:?} {resolver:#?}"),
        None,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let docks = runtime.block_on(Docks::build(&config(), &resolver, &Adapters::default()));
    assert_eq!(
        docks.providers.len(),
        ProviderKind::ALL.len(),
        "{:?}",
        docks.failures
    );
    hidden("Docks", format!("{docks:?} {docks:#?}"), None);
}
