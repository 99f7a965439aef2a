-- The event store: the only source of truth (ARCHITECTURE.md invariants 1-3).

-- One row per stream: its owner, its kind and its current version. Appends move the version
-- with a compare-and-set, so two writers of one stream can never both succeed.
CREATE TABLE streams (
    stream_id   uuid        PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    stream_type text        NOT NULL,
    version     bigint      NOT NULL CHECK (version > 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX streams_tenant_idx ON streams (tenant_id, stream_type);

CREATE TABLE events (
    position       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id       uuid        NOT NULL,
    tenant_id      uuid        NOT NULL,
    stream_type    text        NOT NULL,
    stream_id      uuid        NOT NULL,
    stream_version bigint      NOT NULL CHECK (stream_version > 0),
    event_type     text        NOT NULL,
    schema_version integer     NOT NULL CHECK (schema_version > 0),
    payload        jsonb       NOT NULL,
    metadata       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    tx_id          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_tenant_position_idx ON events (tenant_id, position);

-- Append-only, enforced by the database itself.
CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % is not allowed on the events table', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER events_no_update_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- Wake the tailers (relay, projectors, dispatcher) once per appending statement; the
-- notification is delivered at commit, so a woken tailer finds the events committed.
CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('leadstream_events', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER events_notify_on_insert
    AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify();

-- Snapshots of aggregate state, so loading a stream reads the snapshot plus later events.
-- `format` names the state layout; a snapshot in an older format is ignored (replayed).
CREATE TABLE snapshots (
    stream_id      uuid        PRIMARY KEY REFERENCES streams (stream_id),
    tenant_id      uuid        NOT NULL,
    stream_version bigint      NOT NULL,
    format         integer     NOT NULL,
    state          jsonb       NOT NULL,
    taken_at       timestamptz NOT NULL DEFAULT now()
);

-- Positions of the tailers (relay, projectors, dispatcher), each committed with its work.
CREATE TABLE checkpoints (
    name       text        PRIMARY KEY,
    position   bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
