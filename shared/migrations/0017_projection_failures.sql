-- Streams a projection could not apply an event of (issue 11): one bad event must not stop a
-- projection for every account. The first event that failed is recorded here with its error,
-- the projection moves on, and the stream's later events are skipped (counted) until the
-- projection is rebuilt; reads of the stream answer an error meanwhile, not stale data.
CREATE TABLE projection_failures (
    projection text        NOT NULL,
    stream_id  uuid        NOT NULL,
    tenant_id  uuid        NOT NULL,
    position   bigint      NOT NULL,
    event_type text        NOT NULL,
    error      text        NOT NULL,
    skipped    bigint      NOT NULL DEFAULT 0,
    failed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, stream_id)
);
