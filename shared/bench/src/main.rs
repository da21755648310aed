//! `stackdock-bench`: runs the scenarios and prints measured figures beside their lower bounds.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = stackdock_bench::cli::Args::parse();
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
    match runtime.block_on(stackdock_bench::cli::run(args)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
