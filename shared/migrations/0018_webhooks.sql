-- Webhooks (issue 13). `webhooks` and `webhook_secrets` are the write side's state of each
-- webhook stream, written in the transaction that appends the webhook's event (like scoring
-- rules); the events carry a secret's id, never the secret. `webhook_messages` (one per public
-- event: the exact body sent), `webhook_deliveries` (one per message and endpoint) and
-- `webhook_attempts` are the dispatcher's, derived from the event store: its fan-out writes
-- messages and deliveries in the transaction that moves its checkpoint.
CREATE TABLE webhooks (
    webhook_id      uuid        PRIMARY KEY,
    tenant_id       uuid        NOT NULL,
    url             text        NOT NULL,
    events          text[]      NOT NULL,
    description     text,
    active          boolean     NOT NULL DEFAULT true,
    disabled_reason text,
    version         bigint      NOT NULL, -- the webhook stream's version
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    last_success_at timestamptz,
    -- The first failure after the last success (null while healthy).
    failing_since   timestamptz
);
CREATE INDEX webhooks_tenant_idx ON webhooks (tenant_id, created_at, webhook_id);

-- The signing secrets: the current one (expires_at null) and, during a rotation's grace, the
-- previous one.
CREATE TABLE webhook_secrets (
    secret_id  uuid        PRIMARY KEY,
    webhook_id uuid        NOT NULL REFERENCES webhooks ON DELETE CASCADE,
    secret     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz
);
CREATE INDEX webhook_secrets_webhook_idx ON webhook_secrets (webhook_id);

CREATE TABLE webhook_messages (
    message_id uuid        PRIMARY KEY, -- the envelope id: `webhook-id`, stable across retries
    tenant_id  uuid        NOT NULL,
    event      text        NOT NULL,
    body       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_messages_created_idx ON webhook_messages (created_at);

-- status: pending (never tried, or re-queued), failed (a retry is scheduled), succeeded,
-- exhausted (out of retries, or its endpoint was disabled), cancelled (endpoint deleted).
-- A claimed delivery keeps its status and has next_attempt_at moved to its lease's end: a
-- crashed worker's claim runs out and the delivery is due again.
CREATE TABLE webhook_deliveries (
    delivery_id      uuid        PRIMARY KEY,
    webhook_id       uuid        NOT NULL,
    tenant_id        uuid        NOT NULL,
    message_id       uuid        NOT NULL,
    event            text        NOT NULL,
    status           text        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'failed', 'succeeded', 'exhausted', 'cancelled')),
    attempts         integer     NOT NULL DEFAULT 0,
    -- Attempts since it was created or last re-queued by hand: its place in the schedule.
    round_attempts   integer     NOT NULL DEFAULT 0,
    last_status_code integer,
    last_error       text,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (webhook_id, message_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (webhook_id, next_attempt_at)
    WHERE status IN ('pending', 'failed');
CREATE INDEX webhook_deliveries_list_idx ON webhook_deliveries (webhook_id, delivery_id DESC);
CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at);

CREATE TABLE webhook_attempts (
    delivery_id   uuid        NOT NULL,
    attempt       integer     NOT NULL,
    at            timestamptz NOT NULL,
    status_code   integer,
    duration_ms   integer     NOT NULL,
    response_body text,
    error         text,
    PRIMARY KEY (delivery_id, attempt)
);
