//! The `stackdock` command. Thin: parse arguments, wire the engine, print, choose the exit code.

mod args;
mod commands;
mod context;
mod output;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: a sync allocates and frees millions of small values; glibc's malloc spent a fifth of
/// a 10,000-resource sync's CPU on them (perf; see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = args::Cli::parse();
    output::init_tracing(args.verbose, args.no_color);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(args)) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            output::print_error(&err);
            ExitCode::from(1)
        }
    }
}
