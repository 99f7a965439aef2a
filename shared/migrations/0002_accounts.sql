-- Accounts and API keys: the credential lookup tables, written in the same transaction as the
-- AccountRegistered / ApiKeyIssued events they are derived from.
CREATE TABLE accounts (
    account_id    uuid        PRIMARY KEY,
    email         text        NOT NULL,
    password_hash text        NOT NULL,
    plan          text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email));

CREATE TABLE api_keys (
    key_id     uuid        PRIMARY KEY,
    account_id uuid        NOT NULL REFERENCES accounts (account_id),
    key_hash   bytea       NOT NULL,
    prefix     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    CONSTRAINT api_keys_hash_key UNIQUE (key_hash)
);
CREATE INDEX api_keys_account_idx ON api_keys (account_id);
