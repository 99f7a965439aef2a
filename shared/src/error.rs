//! The one error type every endpoint answers with, and its documented wire shape:
//! `{"error": "<code>", "code": "<code>", "message": "<text>"}` (SPEC §1.4).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A failure as the client sees it. Client errors carry a message saying what was wrong and
/// how to fix it; `Internal` is logged in full and answered with an opaque body.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    LeadsLimitReached(String),
    /// The key lacks a scope (SPEC-CRM §2.7).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    RequestTimeout(String),
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// One lead cannot be read: its read model could not apply one of its events.
    #[error("{0}")]
    LeadUnavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest {
            code: "bad_request",
            message: message.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    /// Wraps an operational failure; the detail goes to the log, never to the client.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        Self::Internal(err.to_string())
    }

    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::LeadsLimitReached(_) | Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::LeadUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } => code,
            Self::Unauthorized(_) => "unauthorized",
            Self::LeadsLimitReached(_) => "leads_limit_reached",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::RequestTimeout(_) => "request_timeout",
            Self::RateLimited { .. } => "rate_limit_exceeded",
            Self::Unavailable(_) => "service_unavailable",
            Self::LeadUnavailable(_) => "lead_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    /// The message the client reads. Internal details never leave the process.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => "An internal error occurred; it has been logged.".to_owned(),
            Self::Unavailable(_) => "The service is temporarily unavailable; retry shortly.".into(),
            other => other.to_string(),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        Self::internal(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let code = self.code();
        let message = self.public_message();
        let body = ErrorBody {
            error: code,
            code,
            message: &message,
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Self::RateLimited {
            retry_after_secs, ..
        } = &self
        {
            let secs = (*retry_after_secs).max(1);
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak_their_detail() {
        let err = ApiError::internal("relation \"events\" does not exist");
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!err.public_message().contains("relation"));
    }

    #[test]
    fn every_client_error_has_a_documented_code() {
        assert_eq!(ApiError::bad_request("x").code(), "bad_request");
        assert_eq!(ApiError::not_found("x").code(), "not_found");
        assert_eq!(ApiError::Unauthorized("x".into()).code(), "unauthorized");
        assert_eq!(
            ApiError::PayloadTooLarge("x".into()).code(),
            "payload_too_large"
        );
        assert_eq!(ApiError::Conflict("x".into()).code(), "conflict");
    }
}
