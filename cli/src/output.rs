//! Terminal output: logging, error chains, colour and progress decisions.

use std::io::IsTerminal;

use stackdock_core::config::Diagnostics;

/// Logs go to stderr; `-v` info, `-vv` debug; `RUST_LOG` overrides. Coloured only when stderr is
/// a terminal, without `--no-color` and without `NO_COLOR` (the rule of the plan's colours).
pub fn init_tracing(verbose: u8, no_color_flag: bool) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(stackdock_core::render::text::use_color(
            std::io::stderr().is_terminal(),
            no_color_flag,
            std::env::var("NO_COLOR").ok().as_deref(),
        ))
        .with_target(false)
        .try_init();
}

/// Prints the whole error chain once, without a backtrace.
pub fn print_error(err: &anyhow::Error) {
    if let Some(diagnostics) = err.downcast_ref::<Diagnostics>() {
        eprintln!("{diagnostics}");
        return;
    }
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}

/// Whether stdout gets colour.
pub fn color(no_color_flag: bool) -> bool {
    stackdock_core::render::text::use_color(
        std::io::stdout().is_terminal(),
        no_color_flag,
        std::env::var("NO_COLOR").ok().as_deref(),
    )
}

/// Progress lines go to stderr, only when it is a terminal.
pub fn progress_enabled() -> bool {
    std::io::stderr().is_terminal()
}

pub fn progress(line: &str) {
    if progress_enabled() {
        eprintln!("{line}");
    }
}

/// Prints `rows` under `header` as left-aligned columns two spaces apart.
pub fn print_table<const N: usize>(header: [&str; N], rows: &[[String; N]]) {
    let header = header.map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}
