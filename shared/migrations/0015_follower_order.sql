-- The follower order (ARCHITECTURE.md invariant 3): followers read events ordered by the pair
-- (writing transaction's id, position) and checkpoint that pair. Ordering by position alone
-- skipped events whose transaction took its id before, and its position after, another's.

-- The tail reads `(tx_id, position) > checkpoint AND tx_id < xmin ORDER BY tx_id, position`;
-- read-your-writes asks whether a tenant has an event past a checkpoint.
CREATE INDEX events_tx_position_idx ON events (tx_id, position);
CREATE INDEX events_tenant_tx_position_idx ON events (tenant_id, tx_id, position);
DROP INDEX events_tenant_position_idx;

-- A follower's checkpoint is the pair. Rows written before this migration hold a position
-- checkpointed in the old order: `legacy_position` marks them, and each follower repairs
-- itself from it before it follows again (the projector rebuilds its read model; the relay
-- publishes what the old order skipped).
ALTER TABLE checkpoints ADD COLUMN tx_id xid8 NOT NULL DEFAULT '0';
ALTER TABLE checkpoints ADD COLUMN legacy_position bigint;
UPDATE checkpoints SET legacy_position = position;

-- The transaction that last appended to each stream. An append by a transaction whose id is
-- older than that is refused as a conflict (and retried in a new transaction), so a stream's
-- events are in version order in the follower order too.
ALTER TABLE streams ADD COLUMN last_tx xid8 NOT NULL DEFAULT '0';
UPDATE streams s SET last_tx = e.tx_id
    FROM events e WHERE e.stream_id = s.stream_id AND e.stream_version = s.version;
