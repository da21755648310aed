//! The caller's identity, from the Function URL's IAM request context: recorded as the `actor`
//! of every run the API creates, and matched against the apply allow-list.
//!
//! A request without an IAM caller is refused (401 `no_caller`) unless the function serves every
//! route (`STACKDOCK_API_ROUTES` unset: `cargo lambda watch`, whose Function URL emulation sends
//! no authorizer), where it is served as [`Caller::LOCAL`]. The deployed template always sets the
//! variable, so no deployed function serves an unsigned request.

use axum::extract::{FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lambda_http::request::RequestContext;

use super::{ApiError, ApiOptions};

/// Who called: the IAM user or role ARN, else the caller or user id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub String);

impl Caller {
    /// The actor of an unsigned request on a local run (never in a deployed function).
    pub const LOCAL: &'static str = "local:unsigned (STACKDOCK_API_ROUTES unset)";

    /// The verified IAM caller of the request context, if there is one.
    pub fn of(context: Option<&RequestContext>) -> Option<Caller> {
        let iam = match context {
            Some(RequestContext::ApiGatewayV2(ctx)) => {
                ctx.authorizer.as_ref().and_then(|a| a.iam.as_ref())
            }
            _ => None,
        };
        iam.and_then(|iam| {
            [&iam.user_arn, &iam.caller_id, &iam.user_id]
                .into_iter()
                .flatten()
                .find(|v| !v.trim().is_empty())
                .cloned()
        })
        .map(Caller)
    }
}

/// Middleware: puts the request's [`Caller`] in its extensions, or refuses it.
pub(super) async fn identify(options: ApiOptions, mut request: Request, next: Next) -> Response {
    let caller = match Caller::of(request.extensions().get::<RequestContext>()) {
        Some(caller) => caller,
        None if options.routes.serves_unsigned() => Caller(Caller::LOCAL.to_owned()),
        None => {
            tracing::warn!(path = %request.uri().path(), "refused a request without an IAM caller");
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "no_caller",
                "the request carries no verified IAM caller; call the Function URL with SigV4-signed requests (AuthType AWS_IAM)",
            )
            .into_response();
        }
    };
    request.extensions_mut().insert(caller);
    next.run(request).await
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Caller, ApiError> {
        // Set by `identify`, which every route passes through.
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "no_caller",
                "the request carries no verified IAM caller",
            )
        })
    }
}
