//! The public NATS contract: events are published on
//! `leadstream.events.<tenant_id>.<stream_type>.<event_type>` in one JetStream stream.

use async_nats::jetstream::{self, stream};
use std::time::Duration;
use uuid::Uuid;

/// The JetStream stream that holds every published event.
pub const STREAM_NAME: &str = "LEADSTREAM_EVENTS";
/// Subjects the stream captures.
pub const SUBJECT_ALL: &str = "leadstream.events.>";

pub fn event_subject(tenant_id: Uuid, stream_type: &str, event_type: &str) -> String {
    format!("leadstream.events.{tenant_id}.{stream_type}.{event_type}")
}

/// Every subject of one tenant, for subscribers.
pub fn tenant_subjects(tenant_id: Uuid) -> String {
    format!("leadstream.events.{tenant_id}.>")
}

/// Creates the events stream if it does not exist. `duplicate_window` is how long JetStream
/// remembers message ids to drop re-publishes.
pub async fn ensure_stream(
    js: &jetstream::Context,
    duplicate_window: Duration,
    max_age: Duration,
) -> Result<stream::Stream, async_nats::Error> {
    let config = stream::Config {
        name: STREAM_NAME.to_owned(),
        subjects: vec![SUBJECT_ALL.to_owned()],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        duplicate_window,
        max_age,
        ..Default::default()
    };
    Ok(js.get_or_create_stream(config).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_carry_tenant_stream_type_and_event_type() {
        let t = Uuid::nil();
        assert_eq!(
            event_subject(t, "lead", "LeadCreated"),
            "leadstream.events.00000000-0000-0000-0000-000000000000.lead.LeadCreated"
        );
    }
}
