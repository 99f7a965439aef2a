//! Publishing stored events to JetStream, pipelined: every publish is sent, then every ack is
//! awaited in order. A failed ack fails the round, which is then retried as a whole.

use async_nats::jetstream::Context;
use async_nats::HeaderMap;
use shared::events::StoredEvent;
use shared::nats::event_subject;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PublishReport {
    pub published: usize,
    /// Acks JetStream marked as duplicates (already stored under the same message id).
    pub duplicates: usize,
}

pub async fn publish_events(js: &Context, events: &[StoredEvent]) -> anyhow::Result<PublishReport> {
    let mut acks = Vec::with_capacity(events.len());
    for event in events {
        let subject = event_subject(event.tenant_id, &event.stream_type, &event.event_type);
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", event.event_id.to_string().as_str());
        let payload = serde_json::to_vec(event)?;
        acks.push(
            js.publish_with_headers(subject, headers, payload.into())
                .await?,
        );
    }
    let mut report = PublishReport {
        published: events.len(),
        duplicates: 0,
    };
    for ack in acks {
        if ack.await?.duplicate {
            report.duplicates += 1;
        }
    }
    Ok(report)
}
