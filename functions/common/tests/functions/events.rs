//! The event fixtures parse as the types the handlers take, and the Function URL request carries
//! the caller's IAM identity.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use axum::http::Method;
use stackdock_functions::api::Caller;
use stackdock_functions::apply::ApplyEvent;

use crate::support::{event, function_url_request, held};

#[test]
fn the_fixtures_parse_as_handler_events() {
    let schedule =
        event::<EventBridgeEvent<serde_json::Value>>("example-eventbridge-schedule.json");
    assert_eq!(schedule.payload.detail_type, "Scheduled Event");
    let apply = event::<ApplyEvent>("apply-run.json");
    assert!(apply.payload.run_id.starts_with("apply-"));
}

#[test]
fn the_caller_is_the_iam_user_of_the_request_context() {
    let request = function_url_request(Method::GET, "/v1/health", "");
    let caller = Caller::of(request.extensions().get());
    assert_eq!(
        caller.map(|c| c.0).as_deref(),
        Some("arn:aws:iam::1234567890:user/Admin")
    );
    assert_eq!(
        Caller::of(None),
        None,
        "no context, no caller (never `unknown`)"
    );

    // The request context `cargo lambda watch` builds for its Function URL emulation
    // (cargo-lambda-watch `trigger_router.rs`: `authorizer: None`, domain `localhost`): no caller.
    let watch = r#"{"version":"2.0","routeKey":"$default","rawPath":"/v1/health","rawQueryString":"",
        "headers":{},"requestContext":{"routeKey":"$default","stage":"$default","requestId":"r",
        "domainName":"localhost","domainPrefix":"api","http":{"method":"GET","path":"/v1/health",
        "protocol":"http","sourceIp":"127.0.0.1","userAgent":"cargo-lambda"},"timeEpoch":0},
        "isBase64Encoded":false}"#;
    let request = lambda_http::request::from_str(watch).expect("a Function URL event");
    assert_eq!(Caller::of(request.extensions().get()), None);
}

/// The deployed config is a trust boundary: the functions refuse to start on a config the Lambda
/// target refuses, with every diagnostic, and start on one it admits.
#[test]
fn the_functions_refuse_a_config_the_lambda_target_refuses() {
    use stackdock_functions::{FunctionError, lambda_target, load_config};
    let dir = std::env::temp_dir().join(format!("stackdock-fn-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("stackdock.toml");
    let unsafe_config = "[stackdock]\norg = \"acme\"\n\n[docks.vultr-main]\nprovider = \"vultr\"\ncredentials = { env = \"AWS_SECRET_ACCESS_KEY\" }\nendpoint = \"https://collector.example.net/v2\"\n\n[docks.linode-main]\nprovider = \"linode\"\ncredentials = { secret = \"other/linode\" }\n";
    std::fs::write(&path, unsafe_config).expect("write");
    let target = lambda_target(|_| None).expect("defaults");
    let err = load_config(&path, &target).expect_err("refused");
    assert!(!err.is_retryable());
    let FunctionError::Config(message) = &err else {
        panic!("{err:?}");
    };
    for needle in [
        "stackdock.toml:6:23",
        "AWS_SECRET_ACCESS_KEY",
        "stackdock.toml:7:12",
        "https://collector.example.net",
        "stackdock.toml:11:26",
        "other/linode",
        "help: ",
    ] {
        assert!(message.contains(needle), "{needle} missing from {message}");
    }

    // Allowed by the deployment: its prefix and an allowed origin.
    let safe = "[stackdock]\norg = \"acme\"\n\n[docks.vultr-main]\nprovider = \"vultr\"\ncredentials = { secret = \"team/vultr\" }\nendpoint = \"http://127.0.0.1:8787/vultr/v2\"\n";
    std::fs::write(&path, safe).expect("write");
    let target = lambda_target(|name| match name {
        "STACKDOCK_SECRET_PREFIX" => Some("team/".to_owned()),
        "STACKDOCK_ALLOWED_ENDPOINTS" => Some("http://127.0.0.1:8787".to_owned()),
        _ => None,
    })
    .expect("target");
    let config = load_config(&path, &target).expect("admitted");
    assert_eq!(config.docks.len(), 1);
    assert!(load_config(&path, &lambda_target(|_| None).expect("defaults")).is_err());

    let bad = lambda_target(|name| {
        (name == "STACKDOCK_ALLOWED_ENDPOINTS").then(|| "https://x.example/v2".to_owned())
    })
    .expect_err("not an origin");
    assert!(bad.to_string().contains("https://x.example/v2"), "{bad}");
    let _ = std::fs::remove_dir_all(&dir);
    held(
        "the functions refuse at start a config outside the Lambda target: endpoints, env credentials, secret prefix (item 2)",
    );
}
