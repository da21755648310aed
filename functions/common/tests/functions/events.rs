//! The event fixtures parse as the types the handlers take, and the Function URL request carries
//! the caller's IAM identity.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use axum::http::Method;
use stackdock_functions::api::Caller;
use stackdock_functions::apply::ApplyEvent;

use crate::support::{event, function_url_request};

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
    assert_eq!(Caller::of(None), None, "no context, no caller (never `unknown`)");

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
