//! What the webhook side shares between services: the public event catalogue and `events`
//! patterns (command-service validates them, the dispatcher matches them), the network policy
//! that keeps deliveries away from internal addresses (checked at `POST`/`PATCH` and again at
//! connect time), and the `webhooks` rows with their wire shape.

pub mod catalogue;
pub mod deliveries;
pub mod network;
pub mod rows;

pub use catalogue::{matches, validate_patterns, PUBLIC_EVENTS, TEST_EVENT};
pub use network::NetworkPolicy;
pub use rows::{get_webhook, list_webhooks, WebhookRow};

/// The NOTIFY channel that wakes the dispatchers' delivery workers (deliveries became due).
pub const DUE_CHANNEL: &str = "leadstream_webhooks_due";

/// The envelope id of a public event (SPEC-CRM §3.13): UUID v5 of the id of the last stored
/// event of the command's group and the public event name. It is the `webhook-id`, the same
/// on every retry and every replica.
pub fn message_id(last_event_id: uuid::Uuid, event: &str) -> uuid::Uuid {
    let mut name = Vec::with_capacity(16 + event.len());
    name.extend_from_slice(last_event_id.as_bytes());
    name.extend_from_slice(event.as_bytes());
    uuid::Uuid::new_v5(&MESSAGE_NAMESPACE, &name)
}

/// The namespace of envelope ids.
const MESSAGE_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6c65_6164_7374_7265_616d_2d77_6868_6f6b);
