//! Structured JSON logs for every function: one JSON object per line (what CloudWatch Logs
//! Insights queries), carrying the fields of the enclosing spans (the Lambda request id, the
//! StackDock run id).

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber. The level comes from `RUST_LOG` (a full filter, e.g.
/// `info,stackdock_engine=debug`), else from `AWS_LAMBDA_LOG_LEVEL` (the function's advanced
/// logging setting), else `info`. Calling it twice keeps the first subscriber.
pub fn init_tracing() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .or_else(|| {
            std::env::var("AWS_LAMBDA_LOG_LEVEL")
                .ok()
                .and_then(|level| EnvFilter::try_new(level.to_lowercase()).ok())
        })
        .unwrap_or_else(|| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(true)
        .with_target(true)
        .with_env_filter(filter)
        // CloudWatch has no terminal: colour codes would end up in the JSON strings.
        .with_ansi(false)
        .try_init();
}
