//! The one place a command's outcome becomes an HTTP answer (SPEC §1.4 error shape).

use crate::app::CommandError;
use shared::lead::decide::{AttrRejected, Rejected};
use shared::ApiError;

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::Rejected(Rejected::NotFound) => ApiError::not_found("Lead not found"),
            CommandError::Rejected(Rejected::Conflict(message)) => ApiError::Conflict(message),
            CommandError::Rejected(Rejected::LeadsLimitReached(max)) => {
                ApiError::LeadsLimitReached(format!(
                    "Lead limit reached: the plan allows {max} leads; delete leads or upgrade \
                     the plan (a push that merges into an existing lead still works)"
                ))
            }
            CommandError::Attribute(AttrRejected::NotFound(what)) => ApiError::not_found(what),
            CommandError::Attribute(AttrRejected::NameTaken(message)) => {
                ApiError::Conflict(message)
            }
            CommandError::Attribute(AttrRejected::WrongType(message)) => {
                ApiError::bad_request(message)
            }
            CommandError::NotFound(what) => ApiError::not_found(what),
            CommandError::Conflict(message) => ApiError::Conflict(message),
            CommandError::Internal(detail) => ApiError::Internal(detail),
        }
    }
}
