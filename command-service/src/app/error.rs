//! What a command answers when it does not succeed: the rules refuse it, what it names does
//! not exist (in this account), it lost the race too many times, or it could not be recorded.
//! The HTTP status of each is decided in one place, `routes::error`.

use shared::lead::decide::{AttrRejected, Rejected};

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A lead decider refused it.
    #[error(transparent)]
    Rejected(#[from] Rejected),
    /// An attribute decider refused it.
    #[error(transparent)]
    Attribute(#[from] AttrRejected),
    /// What it names does not exist: "Lead not found", "Note not found", ...
    #[error("{0}")]
    NotFound(&'static str),
    /// It kept losing races with concurrent writers; the caller may send it again.
    #[error("{0}")]
    Conflict(String),
    /// It could not be recorded (storage, encoding): logged in full, opaque to the client.
    #[error("could not record the command: {0}")]
    Internal(String),
}

impl CommandError {
    pub fn internal(err: impl std::fmt::Display) -> Self {
        Self::Internal(err.to_string())
    }
}

impl From<sqlx::Error> for CommandError {
    fn from(e: sqlx::Error) -> Self {
        Self::internal(e)
    }
}
