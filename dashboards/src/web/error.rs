//! Errors as HTTP responses: a clear message for the user, details only in the log.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A path or query value is invalid; the message names it.
    #[error("{0}")]
    BadRequest(String),
    /// What the path names does not exist at this yard; the message says what.
    #[error("{0}")]
    NotFound(String),
    /// ClickHouse did not answer.
    #[error("storage unavailable")]
    Storage(#[from] clickhouse::error::Error),
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, message).into_response(),
            Self::NotFound(message) => (StatusCode::NOT_FOUND, message).into_response(),
            Self::Storage(e) => {
                tracing::error!(error = %e, "query failed");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage unavailable, try again",
                )
                    .into_response()
            }
        }
    }
}
