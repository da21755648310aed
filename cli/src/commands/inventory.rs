//! `stackdock inventory`: the stored universal records.

use anyhow::Context as _;
use stackdock_core::record::ProvisioningState;
use stackdock_core::record::dock_id;

use crate::args::{Cli, InventoryArgs, ListFormat};
use crate::context;

pub async fn run(cli: &Cli, args: &InventoryArgs) -> anyhow::Result<u8> {
    let config = context::load_config(&cli.config)?;
    let store = context::open_store(&cli.store).await?;
    let kind = context::kind_and_dock(&config, args.kind.as_deref(), args.dock.as_deref())?;
    let did = args
        .dock
        .as_deref()
        .map(|d| dock_id(&config.settings.org, d));
    let mut records = store
        .inventory(&config.settings.org, did.as_deref())
        .await?;
    records.retain(|r| {
        kind.is_none_or(|k| r.kind() == k)
            && (!args.unmanaged || (r.managed_by.is_none() && r.missing_since.is_none()))
    });
    match args.format {
        ListFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&records).context("rendering the inventory")?
        ),
        ListFormat::Text => {
            let rows: Vec<[String; 7]> = records
                .iter()
                .map(|r| {
                    [
                        r.kind().config_key().to_owned(),
                        r.dock_id
                            .rsplit('/')
                            .next()
                            .unwrap_or(&r.dock_id)
                            .to_owned(),
                        r.name.to_string(),
                        if r.provisioning_state == Some(ProvisioningState::Failed) {
                            "failed".to_owned()
                        } else if r.missing_since.is_some() {
                            "missing".to_owned()
                        } else {
                            r.status.to_string()
                        },
                        r.region.as_deref().unwrap_or_default().to_owned(),
                        r.provider_resource_id.to_string(),
                        r.managed_by.as_deref().unwrap_or("-").to_owned(),
                    ]
                })
                .collect();
            crate::output::print_table(
                [
                    "KIND",
                    "DOCK",
                    "NAME",
                    "STATUS",
                    "REGION",
                    "ID",
                    "MANAGED BY",
                ],
                &rows,
            );
            println!(
                "{} record{}",
                rows.len(),
                if rows.len() == 1 { "" } else { "s" }
            );
            // Why each failed create failed (the provider's error, free of secrets).
            for r in &records {
                if let (Some(ProvisioningState::Failed), Some(error)) =
                    (r.provisioning_state, &r.provisioning_error)
                {
                    println!(
                        "{} failed: {error}",
                        r.managed_by.as_deref().unwrap_or(&r.provider_resource_id)
                    );
                }
            }
            // The store keeps at most 64 KiB of a provider's object (issue 19): say which
            // records hold a cut-down copy, so nobody mistakes it for the whole.
            let truncated: Vec<String> = records
                .iter()
                .filter(|r| r.full_api_data_truncated)
                .map(|r| format!("{} {}", r.kind().config_key(), r.provider_resource_id))
                .collect();
            if !truncated.is_empty() {
                println!(
                    "fullApiData truncated to {} KiB (the provider sent more) for: {}",
                    stackdock_store::MAX_FULL_API_DATA_BYTES / 1024,
                    truncated.join(", ")
                );
            }
        }
    }
    Ok(0)
}
