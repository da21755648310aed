//! The caller's identity, from the Function URL's IAM request context: recorded as the `actor`
//! of every run the API creates.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lambda_http::request::RequestContext;

/// Who called: the IAM user or role ARN, else the caller or user id, else `unknown` (a local
/// `cargo lambda watch`, which does not sign requests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub String);

impl Caller {
    pub fn of(context: Option<&RequestContext>) -> Caller {
        let iam = match context {
            Some(RequestContext::ApiGatewayV2(ctx)) => {
                ctx.authorizer.as_ref().and_then(|a| a.iam.as_ref())
            }
            _ => None,
        };
        let who = iam.and_then(|iam| {
            [&iam.user_arn, &iam.caller_id, &iam.user_id]
                .into_iter()
                .flatten()
                .find(|v| !v.trim().is_empty())
                .cloned()
        });
        Caller(who.unwrap_or_else(|| "unknown".to_owned()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Caller, Infallible> {
        Ok(Caller::of(parts.extensions.get::<RequestContext>()))
    }
}
