//! One error type for the whole crate. Every variant has a stable code that the JS layer puts on
//! `error.code`; messages never contain a password (URLs pass through
//! `url_credentials::redact_url` first).

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum CeleryError {
    /// celery-node's text for a URL scheme it does not know.
    #[error("Unsupported type: {0}")]
    UnsupportedScheme(String),
    #[error("invalid URL {url}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("invalid option {name}: {reason}")]
    InvalidOption { name: String, reason: String },
    #[error("cannot reach broker at {url}: {reason}")]
    BrokerUnreachable { url: String, reason: String },
    #[error("cannot reach result backend at {url}: {reason}")]
    BackendUnreachable { url: String, reason: String },
    /// The broker answered but refused the message (an error reply, not a lost connection).
    #[error("the broker refused the message: {0}")]
    PublishFailed(String),
    /// A mandatory message RabbitMQ could not route to any queue (basic.return).
    #[error("no queue took the message for routing key {routing_key}: {reason}")]
    Unroutable { routing_key: String, reason: String },
    #[error("result backend error: {0}")]
    Backend(String),
    #[error("cannot decode {what}: {reason}")]
    Decode { what: String, reason: String },
    /// The message stays `TIMEOUT`, as celery-node's.
    #[error("TIMEOUT")]
    Timeout,
    #[error("the client is disconnected")]
    Disconnected,
}

impl CeleryError {
    pub fn code(&self) -> &'static str {
        match self {
            CeleryError::UnsupportedScheme(_) => "ERR_CELERY_UNSUPPORTED_SCHEME",
            CeleryError::InvalidUrl { .. } => "ERR_CELERY_INVALID_URL",
            CeleryError::InvalidOption { .. } => "ERR_CELERY_INVALID_OPTION",
            CeleryError::BrokerUnreachable { .. } => "ERR_CELERY_BROKER_UNREACHABLE",
            CeleryError::BackendUnreachable { .. } => "ERR_CELERY_BACKEND_UNREACHABLE",
            CeleryError::PublishFailed(_) => "ERR_CELERY_PUBLISH_FAILED",
            CeleryError::Unroutable { .. } => "ERR_CELERY_UNROUTABLE",
            CeleryError::Backend(_) => "ERR_CELERY_BACKEND",
            CeleryError::Decode { .. } => "ERR_CELERY_DECODE",
            CeleryError::Timeout => "ERR_CELERY_TIMEOUT",
            CeleryError::Disconnected => "ERR_CELERY_DISCONNECTED",
        }
    }
}

/// Lost, refused or timed-out connections, as opposed to errors the server answered with.
pub fn is_connection_error(error: &redis::RedisError) -> bool {
    error.is_io_error() || error.is_connection_dropped() || error.is_connection_refusal() || error.is_timeout()
}

pub type Result<T, E = CeleryError> = std::result::Result<T, E>;
