//! Errors as HTTP responses: a clear message for the user, details only in the log.

use axum::http::{StatusCode, header};
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
    /// The caller already has as much cold work running as one user may (429): try again in
    /// `retry_after_secs`. The message says why.
    #[error("{message}")]
    TooManyRequests {
        /// Seconds the client should wait, sent as `Retry-After`.
        retry_after_secs: u64,
        /// What the user reads.
        message: String,
    },
    /// The server's capacity for cold work stayed taken for the whole bounded wait (503): try
    /// again in `retry_after_secs`.
    #[error("{message}")]
    Busy {
        /// Seconds the client should wait, sent as `Retry-After`.
        retry_after_secs: u64,
        /// What the user reads.
        message: String,
    },
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
            Self::TooManyRequests {
                retry_after_secs,
                message,
            } => (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    (header::RETRY_AFTER, retry_after_secs.to_string()),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                message,
            )
                .into_response(),
            Self::Busy {
                retry_after_secs,
                message,
            } => (
                StatusCode::SERVICE_UNAVAILABLE,
                [
                    (header::RETRY_AFTER, retry_after_secs.to_string()),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                message,
            )
                .into_response(),
        }
    }
}
