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
    assert_eq!(caller.0, "arn:aws:iam::1234567890:user/Admin");
    assert_eq!(Caller::of(None).0, "unknown");
}
