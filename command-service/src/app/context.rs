//! Who issues a command, when, and the metadata its events carry.

use shared::auth::AuthContext;
use shared::events::EventMetadata;
use shared::plan::Plan;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct CommandContext {
    pub tenant: Uuid,
    pub plan: Plan,
    pub metadata: EventMetadata,
    /// Unix seconds; one clock reading per command.
    pub now: i64,
}

impl CommandContext {
    pub fn new(auth: &AuthContext, request_id: String) -> Self {
        let correlation = Uuid::new_v4();
        Self {
            tenant: auth.account_id,
            plan: auth.plan,
            metadata: EventMetadata {
                actor: Some(auth.actor()),
                request_id: Some(request_id),
                correlation_id: Some(correlation),
                ..Default::default()
            },
            now: chrono::Utc::now().timestamp(),
        }
    }

    /// Marks every event of this command as part of one batch.
    pub fn in_batch(mut self) -> Self {
        self.metadata.batch_id = Some(Uuid::new_v4());
        self
    }
}
