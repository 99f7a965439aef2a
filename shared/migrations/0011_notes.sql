-- Notes are events of their lead's stream (NoteAdded, NoteEdited, NoteRemoved).
-- The command side finds a note's lead here (written in the appending transaction).
CREATE TABLE note_index (
    note_id    uuid    PRIMARY KEY,
    tenant_id  uuid    NOT NULL,
    lead_id    uuid    NOT NULL,
    created_at bigint  NOT NULL,
    deleted    boolean NOT NULL DEFAULT false
);

-- The notes read model, kept by the lead projection in the same transaction as the leads (so
-- read-your-writes covers notes too); removed notes stay as tombstones.
CREATE TABLE note_view (
    tenant_id  uuid    NOT NULL,
    note_id    uuid    NOT NULL,
    lead_id    uuid    NOT NULL,
    content    text    NOT NULL,
    created_at bigint  NOT NULL,
    updated_at bigint  NOT NULL,
    deleted    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, note_id)
);
CREATE INDEX note_view_lead_idx ON note_view (tenant_id, lead_id, created_at, note_id) WHERE NOT deleted;
