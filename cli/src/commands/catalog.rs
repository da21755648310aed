//! `stackdock catalog DOCK regions|plans|images|apps`: one part of a dock's catalog, from the
//! store while its copy is fresh (a day), else (or with `--refresh`) read from the provider and
//! stored. The text view is a table; the JSON view is stable: `dock`, `provider`, `section`,
//! `fetchedAt` and `items`, each item with every field of its section.

use anyhow::Context as _;
use serde_json::{Value, json};
use stackdock_providers::{Catalog, Section};

use crate::args::{CatalogArgs, CatalogSection, Cli, ListFormat};
use crate::context::Session;
use crate::output::print_table;

fn section(s: CatalogSection) -> Section {
    match s {
        CatalogSection::Regions => Section::Regions,
        CatalogSection::Plans => Section::Plans,
        CatalogSection::Images => Section::Images,
        CatalogSection::Apps => Section::Apps,
    }
}

pub async fn run(cli: &Cli, args: &CatalogArgs) -> anyhow::Result<u8> {
    let session = Session::open(&cli.config, &cli.store).await?;
    let found = stackdock_engine::dock_catalog(
        &session.config,
        &session.docks,
        session.store.as_ref(),
        &args.dock,
        args.refresh,
    )
    .await
    .with_context(|| format!("reading the catalog of dock `{}`", args.dock))?;
    let provider = session
        .config
        .docks
        .get(&args.dock)
        .map(|d| d.provider.as_str())
        .unwrap_or_default();
    let section = section(args.section);
    let catalog = &found.catalog;
    match args.format {
        ListFormat::Json => {
            let out = json!({
                "dock": args.dock,
                "provider": provider,
                "section": section.as_str(),
                "fetchedAt": catalog.fetched_at.map(|t| t.to_string()),
                "items": items(catalog, section)?,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&out).context("rendering the catalog")?
            );
        }
        ListFormat::Text => {
            text(catalog, section);
            let when = catalog
                .fetched_at
                .map_or_else(|| "at an unknown time".to_owned(), |t| format!("at {t}"));
            let source = if found.read_now {
                "read from the provider now"
            } else {
                "the stored copy; `--refresh` reads it again"
            };
            println!(
                "\n{} {section} of dock `{}` ({provider}), read {when} ({source})",
                catalog.len(section),
                args.dock
            );
        }
    }
    Ok(0)
}

/// Every entry of `section` with every field (the ones the stored form leaves out at their
/// default are written out here, so each item of a section has the same keys).
fn items(catalog: &Catalog, section: Section) -> anyhow::Result<Vec<Value>> {
    let values = match section {
        Section::Regions => serde_json::to_value(&catalog.regions),
        Section::Plans => serde_json::to_value(&catalog.plans),
        Section::Images => serde_json::to_value(&catalog.images),
        Section::Apps => serde_json::to_value(&catalog.apps),
    }
    .context("rendering the catalog")?;
    let defaults: &[(&str, Value)] = match section {
        Section::Regions => &[("available", Value::Bool(true))],
        Section::Plans => &[
            ("vcpus", Value::Null),
            ("memoryMb", Value::Null),
            ("diskGb", Value::Null),
            ("monthlyUsd", Value::Null),
            ("available", Value::Bool(true)),
            ("regions", Value::Null),
        ],
        Section::Images => &[],
        Section::Apps => &[("vendor", Value::Null), ("images", Value::Null)],
    };
    let mut items = match values {
        Value::Array(items) => items,
        _ => Vec::new(),
    };
    for item in &mut items {
        if let Value::Object(map) = item {
            for (k, v) in defaults {
                map.entry(*k).or_insert_with(|| v.clone());
            }
            if section == Section::Apps && map.get("images") == Some(&Value::Array(Vec::new())) {
                map.insert("images".to_owned(), Value::Null);
            }
        }
    }
    Ok(items)
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// A list cut to its first four, with how many more.
fn short(list: &[String]) -> String {
    match list.len() {
        0 => "-".to_owned(),
        n if n <= 4 => list.join(","),
        n => format!("{} +{}", list[..4].join(","), n - 4),
    }
}

fn text(catalog: &Catalog, section: Section) {
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_owned();
    match section {
        Section::Regions => {
            let rows: Vec<[String; 3]> = catalog
                .regions
                .iter()
                .map(|r| [r.id.clone(), r.name.clone(), yes_no(r.available)])
                .collect();
            print_table(["ID", "NAME", "AVAILABLE"], &rows);
        }
        Section::Plans => {
            let rows: Vec<[String; 7]> = catalog
                .plans
                .iter()
                .map(|p| {
                    [
                        p.id.clone(),
                        opt(p.vcpus),
                        opt(p.memory_mb),
                        opt(p.disk_gb),
                        p.monthly_usd
                            .map_or_else(|| "-".to_owned(), |m| format!("{m:.2}")),
                        yes_no(p.available),
                        p.regions.as_deref().map_or_else(|| "all".to_owned(), short),
                    ]
                })
                .collect();
            print_table(
                [
                    "ID",
                    "VCPUS",
                    "MEMORY_MB",
                    "DISK_GB",
                    "USD/MONTH",
                    "AVAILABLE",
                    "REGIONS",
                ],
                &rows,
            );
        }
        Section::Images => {
            let rows: Vec<[String; 2]> = catalog
                .images
                .iter()
                .map(|i| [i.id.clone(), i.name.clone()])
                .collect();
            print_table(["ID", "NAME"], &rows);
        }
        Section::Apps => {
            let rows: Vec<[String; 4]> = catalog
                .apps
                .iter()
                .map(|a| {
                    [
                        a.id.clone(),
                        a.name.clone(),
                        if a.vendor.is_empty() {
                            "-".to_owned()
                        } else {
                            a.vendor.clone()
                        },
                        if a.images.is_empty() {
                            "any".to_owned()
                        } else {
                            short(&a.images)
                        },
                    ]
                })
                .collect();
            print_table(["ID", "NAME", "VENDOR", "IMAGES"], &rows);
        }
    }
}
