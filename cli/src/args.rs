//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Keep a fleet on Vultr, DigitalOcean and Linode in line with one checked-in stackdock.toml.
#[derive(Debug, Parser)]
#[command(name = "stackdock", version, about, propagate_version = true)]
pub struct Cli {
    /// The config file.
    #[arg(
        long,
        global = true,
        default_value = "stackdock.toml",
        env = "STACKDOCK_CONFIG"
    )]
    pub config: PathBuf,

    /// Where inventory, runs and leases are kept: `sqlite:PATH`, or `dynamodb://PREFIX` (tables
    /// `PREFIX-servers`, …; region, credentials and endpoint from the usual AWS variables).
    #[arg(
        long,
        global = true,
        default_value = "sqlite:.stackdock/stackdock.db",
        env = "STACKDOCK_STORE"
    )]
    pub store: String,

    /// Never colour the output (also: the NO_COLOR environment variable).
    #[arg(long, global = true)]
    pub no_color: bool,

    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check stackdock.toml and report every mistake with file:line:column.
    Validate(ValidateArgs),
    /// Sync, then show what apply would change.
    Plan(PlanArgs),
    /// Apply a plan: a saved one (`plan.json`) or a fresh one after confirmation.
    Apply(ApplyArgs),
    /// List every dock's inventory into the store.
    Sync,
    /// Show the stored inventory.
    Inventory(InventoryArgs),
    /// Write unmanaged resources as `stackdock.toml` entries pinned with `id` (printed, or appended
    /// to `--out`), so the next plan adopts them.
    Import(ImportArgs),
    /// Write the fleet as one self-contained HTML page: counts, a sortable and filterable table
    /// per kind, drift and unmanaged resources marked, each dock's last sync.
    Report(ReportArgs),
    /// Notifications of `[notify]`: `stackdock notify test` sends a test message.
    #[command(subcommand)]
    Notify(NotifyCommand),
    /// Sync, then show only what changed outside StackDock.
    Drift(DriftArgs),
    /// Print the JSON Schema of stackdock.toml (for editors: Taplo, Even Better TOML).
    Schema,
    /// Power actions on one managed server, under the apply lease and written to the run log
    /// like an apply: `stackdock server reboot|power-on|power-off servers.<name>`.
    #[command(subcommand)]
    Server(ServerCommand),
    /// Release the apply lease held by a dead apply.
    Unlock(UnlockArgs),
    /// Serve the local provider sandbox (the Vultr, DigitalOcean, Linode, Vercel and Cloudflare APIs) on 127.0.0.1.
    Sandbox(SandboxArgs),
    /// The whole loop offline against the sandbox: sync, plan, apply, plan, an out-of-band
    /// change, drift.
    Demo(DemoArgs),
    /// Manage the DynamoDB tables of `--store dynamodb://PREFIX`.
    Tables(TablesArgs),
    /// The audit log: recent runs newest first, or one run whole (its actions and log).
    Runs(RunsArgs),
    /// Every dock: its provider, the account its credential belongs to (name, email, balance,
    /// limits), its last sync and resources. `docks test [DOCK]` checks the credentials.
    Docks(DocksArgs),
    /// A dock's catalog: its provider's regions, plans, images or marketplace apps, as plans
    /// check `region`, `plan`, `image` and `app` against them. Kept in the store for a day
    /// (`--refresh` reads it from the provider now).
    Catalog(CatalogArgs),
}

#[derive(Debug, clap::Args)]
pub struct CatalogArgs {
    /// The dock (a `[docks.<name>]` of the config).
    pub dock: String,
    /// Which part of the catalog.
    #[arg(value_enum)]
    pub section: CatalogSection,
    /// Read it from the provider now, even if the stored copy is less than a day old.
    #[arg(long)]
    pub refresh: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CatalogSection {
    /// Where resources can be created (`region`).
    Regions,
    /// Server plans, sizes or types (`plan`), with vCPUs, memory, disk, price and regions.
    Plans,
    /// Public images (`image`).
    Images,
    /// Marketplace apps: Vultr applications, DigitalOcean 1-Clicks, Linode StackScripts (`app`).
    Apps,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Also check the rules of a deployment: `lambda` admits only `{ secret = "<prefix>…" }`
    /// credentials and endpoints on the provider's published https API (or an allowed origin).
    #[arg(long, value_enum)]
    pub target: Option<Target>,
    /// The deployment's Secrets Manager name prefix (the stack's SecretPrefix).
    #[arg(long, default_value = stackdock_core::config::DEFAULT_SECRET_PREFIX, requires = "target")]
    pub secret_prefix: String,
    /// An origin (`scheme://host[:port]`) docks may call besides their provider's published API
    /// (the stack's AllowedEndpoints); repeatable.
    #[arg(long = "allow-endpoint", value_name = "ORIGIN", requires = "target")]
    pub allow_endpoints: Vec<String>,
}

/// Where the config will run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// The deployed AWS Lambda functions.
    Lambda,
}

#[derive(Debug, clap::Args)]
pub struct TablesArgs {
    #[command(subcommand)]
    pub command: TablesCommand,
}

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Send a test message to every channel of `[notify]` this process can reach (the webhook,
    /// and the SNS topic when STACKDOCK_NOTIFY_TOPIC_ARN names it); exit 1 unless each took it.
    Test,
}

#[derive(Debug, Subcommand)]
pub enum TablesCommand {
    /// Create the tables that do not exist yet (on demand billing, TTL on runs and locks) and
    /// print their names; for local use (production tables come from the SAM template).
    Create,
    /// Bring the items of tables written by an earlier version up to this one (today: index the
    /// runs recorded before the newest-first runs index, so `GET /v1/runs` and the sync's
    /// stale-run sweep see them). Idempotent; run once after deploying the new template.
    Upgrade,
}

#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// Start empty instead of with the fixture resources.
    #[arg(long)]
    pub no_fixtures: bool,
    /// Extra generated resources, `provider:kind:count` (e.g. `vultr:instances:2000`).
    #[arg(long = "bulk", value_name = "PROVIDER:KIND:COUNT")]
    pub bulk: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The demo's own store, recreated on every run (`--store` is not used).
    #[arg(long, default_value = ".stackdock/demo.db")]
    pub demo_store: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[arg(long, value_enum, default_value = "text")]
    pub format: PlanFormat,
    /// Also write the plan as JSON here, for `stackdock apply <file>`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Exit 0 when there are no changes, 2 when there are (1 is an error).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan against the stored inventory without syncing first.
    #[arg(long)]
    pub no_refresh: bool,
    /// List every unmanaged resource in the text plan (by default: counts per dock and kind).
    #[arg(long)]
    pub show_unmanaged: bool,
}

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// A plan saved with `stackdock plan --out`; refused if it no longer matches.
    pub plan: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Seconds to wait for each resource to become ready.
    #[arg(long, default_value_t = 600)]
    pub ready_timeout: u64,
    /// Seconds the apply lease lasts without renewal (renewed every third of it while running):
    /// after a crash, another apply can take over once this has passed.
    #[arg(long, value_name = "SECS", default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..))]
    pub lease_ttl: u64,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Write the page here (rewritten whole or not at all) instead of printing it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// Use the stored inventory without syncing first.
    #[arg(long)]
    pub no_refresh: bool,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Only this dock.
    #[arg(long)]
    pub dock: Option<String>,
    /// Only this kind (`servers`, `block_volumes`, `buckets`, `databases`).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only resources whose provider label matches this pattern (`*` and `?`, e.g. `web-*`).
    #[arg(long, value_name = "GLOB")]
    pub name: Option<String>,
    /// Append the entries to this file (usually `stackdock.toml`) instead of printing them; the
    /// file is rewritten whole or not at all, and only if the result validates.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// Use the stored inventory without syncing first.
    #[arg(long)]
    pub no_refresh: bool,
}

#[derive(Debug, clap::Args)]
pub struct InventoryArgs {
    /// Only this kind (`servers`, `block_volumes`, `buckets`, `databases`, `web_services`,
    /// `domains`, `domain_records`; the table names `blockVolumes`, … are accepted too).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only this dock.
    #[arg(long)]
    pub dock: Option<String>,
    /// Only the records StackDock does not manage (no `managedBy`): what a plan counts as
    /// unmanaged, plus declared resources not adopted yet.
    #[arg(long)]
    pub unmanaged: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

#[derive(Debug, clap::Args)]
pub struct RunsArgs {
    /// Show this run whole: its actions and log.
    pub run_id: Option<String>,
    /// Only runs of this kind.
    #[arg(long, value_enum)]
    pub kind: Option<RunKindArg>,
    /// How many runs to list.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

#[derive(Debug, clap::Args)]
pub struct DocksArgs {
    #[command(subcommand)]
    pub command: Option<DocksCommand>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

#[derive(Debug, Subcommand)]
pub enum DocksCommand {
    /// Check each dock's credential (or only DOCK's) with one authenticated request, without
    /// syncing: "token rejected" (401/403) apart from a provider or network failure. Exit 1 if
    /// any failed.
    Test {
        /// Only this dock.
        dock: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RunKindArg {
    Sync,
    Plan,
    Apply,
    Unlock,
}

#[derive(Debug, clap::Args)]
pub struct DriftArgs {
    /// Use the stored inventory without syncing first.
    #[arg(long)]
    pub no_refresh: bool,
    /// Exit 2 when drift is found.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Reboot a running server and wait until it runs again.
    Reboot(ServerArgs),
    /// Power a stopped server on and wait until it runs (nothing is sent if it already runs).
    PowerOn(ServerArgs),
    /// Power a running server off and wait until it is stopped (nothing is sent if it already
    /// is). Unless its entry says `power = "off"`, the next apply powers it on again.
    PowerOff(ServerArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// The server's address in stackdock.toml (`servers.<name>`); it must be managed (created or
    /// adopted by an apply).
    pub address: String,
    /// Seconds to wait for the provider to report the new state.
    #[arg(long, default_value_t = 600)]
    pub ready_timeout: u64,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

#[derive(Debug, clap::Args)]
pub struct UnlockArgs {
    /// Required: releasing someone else's lease can let two applies run at once.
    #[arg(long)]
    pub force: bool,
}

/// `docs/cli.md`, the CLI reference: every command's `--help`, rendered from the same definitions
/// the binary parses (a test keeps the committed file current; `UPDATE_EXPECT=1` rewrites it).
#[cfg(test)]
mod reference {
    use clap::CommandFactory;

    /// The help of `cmd` and of every subcommand below it, under headings by full name.
    fn render(cmd: &mut clap::Command, path: &str, out: &mut String) {
        let name = if path.is_empty() {
            cmd.get_name().to_owned()
        } else {
            format!("{path} {}", cmd.get_name())
        };
        out.push_str(&format!("\n## `{name}`\n\n```text\n"));
        out.push_str(cmd.render_long_help().to_string().trim_end());
        out.push_str("\n```\n");
        let mut subs: Vec<clap::Command> = cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
            .cloned()
            .collect();
        for sub in &mut subs {
            render(sub, &name, out);
        }
    }

    #[test]
    fn committed_cli_reference_is_current() {
        // A fixed width, so the file does not depend on the terminal the test ran in.
        // Values of the environment are left out, so the file does not depend on the shell either.
        let mut cmd = super::Cli::command()
            .term_width(100)
            .mut_args(|a| a.hide_env_values(true));
        cmd.build();
        let mut out = String::from(
            "# CLI reference\n\nGenerated from the command definitions (`cli/src/args.rs`) by \
             `UPDATE_EXPECT=1 cargo test -p stackdock-cli --bin stackdock reference`: each \
             section is exactly what `--help` prints. Do not edit by hand.\n",
        );
        render(&mut cmd, "", &mut out);
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/cli.md");
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            std::fs::write(&path, &out).expect("write docs/cli.md");
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == out,
            "docs/cli.md is not the help the commands print; run `UPDATE_EXPECT=1 cargo test -p stackdock-cli --bin stackdock reference` and commit it"
        );
    }
}
