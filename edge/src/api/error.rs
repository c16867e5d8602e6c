//! API errors as responses: a status and a JSON body naming the field and why.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// No token, or not one the gateway knows.
    #[error("a valid bearer token is required")]
    Unauthenticated,
    /// The token's role may not submit this kind.
    #[error("role {role} may not submit {kind}")]
    Forbidden {
        /// The caller's role.
        role: &'static str,
        /// The record kind.
        kind: String,
    },
    /// No such record kind.
    #[error("unknown record kind {0:?}")]
    UnknownKind(String),
    /// The body is not JSON or a field is missing, unknown or of the wrong type.
    #[error("{message}")]
    Malformed {
        /// The field, when known.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A request header is malformed (the header is named).
    #[error("{message}")]
    BadHeader {
        /// The header.
        header: &'static str,
        /// What is wrong.
        message: String,
    },
    /// An `Idempotency-Key` already recorded a different request.
    #[error(
        "Idempotency-Key {key} was already used for a different request (it recorded event \
         {event_id}); send a retry unchanged, or a new record with a new key"
    )]
    KeyReused {
        /// The key.
        key: uuid::Uuid,
        /// The event the key recorded.
        event_id: uuid::Uuid,
    },
    /// A field's value is not acceptable.
    #[error(transparent)]
    Invalid(#[from] schemas::ValidationError),
    /// The outbox is full: the record was not captured.
    #[error("the gateway's storage is full; the record was not saved: {0}")]
    StorageFull(String),
    /// The outbox failed.
    #[error("the record could not be saved")]
    Storage(String),
}

impl ApiError {
    /// The outbox's refusal as an API error: storage full, or a failure.
    pub fn from_outbox(e: &crate::outbox::OutboxError) -> Self {
        match e {
            crate::outbox::OutboxError::Full(full) => Self::StorageFull(full.to_string()),
            other => Self::Storage(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::BadHeader { .. } => StatusCode::BAD_REQUEST,
            Self::KeyReused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::UnknownKind(_) => StatusCode::NOT_FOUND,
            Self::Malformed { .. } | Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            Self::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        let field = match &self {
            Self::Malformed { field, .. } => field.clone(),
            Self::Invalid(e) => Some(e.field.clone()),
            Self::BadHeader { header, .. } => Some((*header).to_owned()),
            Self::KeyReused { .. } => Some("Idempotency-Key".to_owned()),
            _ => None,
        };
        if let Self::Storage(detail) = &self {
            tracing::error!(detail, "records API could not write the outbox");
        }
        (
            status,
            Json(json!({"error": self.to_string(), "field": field})),
        )
            .into_response()
    }
}
