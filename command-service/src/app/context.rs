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
    /// The plan's lead limit, for commands that create leads (`None`: no limit).
    pub max_leads: Option<u64>,
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
            max_leads: None,
        }
    }

    /// A command that may create leads, under the plan's lead limit.
    pub fn with_lead_limit(mut self, max_leads: Option<u64>) -> Self {
        self.max_leads = max_leads;
        self
    }

    /// Marks every event of this command as part of one batch.
    pub fn in_batch(mut self) -> Self {
        self.metadata.batch_id = Some(Uuid::new_v4());
        self
    }
}
