//! Structured JSON logs for every function: one JSON object per line with `timestamp`, `level`
//! and `message` at the top (what Lambda's `LogFormat: JSON` expects of an application's own JSON
//! lines, and what CloudWatch Logs Insights queries), carrying the fields of the enclosing spans
//! (the Lambda request id, the StackDock run id).
//!
//! Unlike `lambda_runtime::tracing::init_default_subscriber` (JSON only when
//! `AWS_LAMBDA_LOG_FORMAT=JSON`, text otherwise), the lines are JSON whatever the function's log
//! format: with `Text` they are still one queryable object per line. The EMF metric lines
//! (`metrics`) are printed beside them, not through this subscriber.

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber, with the filter of [`filter_directives`] read from the
/// environment. Calling it twice keeps the first subscriber.
pub fn init_tracing() {
    let directives = filter_directives(
        std::env::var("RUST_LOG").ok().as_deref(),
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
    );
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info"));
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

/// The log filter: `RUST_LOG` when it is a valid filter (a full filter, e.g.
/// `info,stackdock_engine=debug`, for debugging one module), else Lambda's `LogLevel`
/// (`AWS_LAMBDA_LOG_LEVEL`: TRACE, DEBUG, INFO, WARN, ERROR or FATAL; FATAL is tracing's
/// `error`), else `info`. Lambda also drops JSON lines below its `LogLevel` by their `level`.
pub fn filter_directives(rust_log: Option<&str>, lambda_level: Option<&str>) -> String {
    if let Some(f) = rust_log.map(str::trim).filter(|f| !f.is_empty())
        && EnvFilter::try_new(f).is_ok()
    {
        return f.to_owned();
    }
    let level = match lambda_level
        .map(|l| l.trim().to_ascii_uppercase())
        .as_deref()
    {
        Some("TRACE") => "trace",
        Some("DEBUG") => "debug",
        Some("WARN") => "warn",
        Some("ERROR" | "FATAL") => "error",
        _ => "info",
    };
    level.to_owned()
}

#[cfg(test)]
mod tests {
    use super::filter_directives;

    #[test]
    fn the_level_comes_from_rust_log_then_lambdas_log_level() {
        assert_eq!(
            filter_directives(Some("info,stackdock_engine=debug"), Some("ERROR")),
            "info,stackdock_engine=debug"
        );
        assert_eq!(filter_directives(None, Some("WARN")), "warn");
        assert_eq!(filter_directives(Some(""), Some("debug")), "debug");
        // FATAL is not a tracing level: read as a target name it would silence everything.
        assert_eq!(filter_directives(None, Some("FATAL")), "error");
        assert_eq!(filter_directives(None, Some("nonsense")), "info");
        assert_eq!(filter_directives(None, None), "info");
    }
}
