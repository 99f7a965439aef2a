//! The Postgres event store: append with optimistic concurrency, stream reads, snapshots and
//! the gap-free tail (ARCHITECTURE.md invariants 2 and 3). All functions take a connection so
//! callers choose the transaction (dedup keys are reserved in the appending transaction).

mod append;
mod checkpoint;
pub mod follow;
mod load;
mod snapshot;
mod tail;

pub use append::{append, lock_streams, AppendError, ExpectedVersion, StreamAppend};
pub use checkpoint::{
    drop_checkpoint, has_passed, load_checkpoint, lock_checkpoint, move_checkpoint, moved_cte,
    save_checkpoint, save_repaired, Checkpoint,
};
pub use load::{load_streams, read_stream, LoadedStream};
pub use snapshot::save_snapshots;
pub use tail::{has_events_after, rest_of_transaction, tail, tail_after_checkpoint, LogPosition};

/// The channel the `events` insert trigger notifies on; tailers LISTEN on it to wake at once.
pub const NOTIFY_CHANNEL: &str = "leadstream_events";

/// Columns of `StoredEvent`, in order.
pub const EVENT_COLUMNS: &str = "position, event_id, tenant_id, stream_type, stream_id, \
     stream_version, event_type, schema_version, payload, metadata, recorded_at, \
     tx_id::text::bigint AS tx_id";
