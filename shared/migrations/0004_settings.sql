-- Per-deployment settings. `cursor_secret` signs list cursors so clients cannot forge them;
-- every replica reads the same value. gen_random_uuid() draws from the strong random source.
CREATE TABLE settings (
    name       text        PRIMARY KEY,
    value      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO settings (name, value)
VALUES ('cursor_secret', encode(sha256((gen_random_uuid()::text || gen_random_uuid()::text)::bytea), 'hex'));
