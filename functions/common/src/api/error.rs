//! `ApiError`: every failure of the API as a status and a JSON body `{"code", "message", …}`. The
//! code is stable snake_case for programs; the message is for people and carries no internal
//! detail (store errors and the like go to the log, with the request's span).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use stackdock_engine::EngineError;
use stackdock_store::StoreError;

use crate::FunctionError;

/// An error response.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Extra top-level fields of the body (diagnostics, reasons, the lease holder).
    pub extra: Map<String, Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            extra: Map::new(),
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> ApiError {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    /// A failure of ours: logged in full, answered without detail.
    pub fn internal(error: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %error, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the request failed; the function's log has the details",
        )
    }

    /// The store could not be reached.
    pub fn store_unavailable(error: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %error, "store unavailable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the store is unavailable; try again shortly",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("code".into(), Value::from(self.code));
        body.insert("message".into(), Value::from(self.message));
        body.extend(self.extra);
        (self.status, Json(Value::Object(body))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Backend(_) => ApiError::store_unavailable(&e),
            _ => ApiError::internal(&e),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        match e {
            EngineError::Store(e) => e.into(),
            e => ApiError::internal(&e),
        }
    }
}

impl From<FunctionError> for ApiError {
    fn from(e: FunctionError) -> ApiError {
        match e {
            FunctionError::Store(e) => e.into(),
            FunctionError::Engine(e) => e.into(),
            FunctionError::Submit(e) => {
                tracing::error!(error = %e, "apply submission failed");
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "submit_failed",
                    "the apply run was recorded but the apply worker could not be reached; the run is marked failed, submit again",
                )
            }
            e => ApiError::internal(&e),
        }
    }
}
