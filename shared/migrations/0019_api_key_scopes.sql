-- API keys become manageable (issue 14, SPEC-CRM §3.2): a name, scopes, an expiry, and when a
-- key was last used (operational, updated at most once a minute per replica, not an event).
-- Existing keys hold every scope; an account's first key came from /register, the others
-- from /login.
ALTER TABLE api_keys
    ADD COLUMN name         text        NOT NULL DEFAULT 'login',
    ADD COLUMN scopes       text[]      NOT NULL DEFAULT '{read,write,admin}',
    ADD COLUMN expires_at   timestamptz,
    ADD COLUMN last_used_at timestamptz;

UPDATE api_keys k SET name = 'register'
WHERE k.key_id = (SELECT f.key_id FROM api_keys f WHERE f.account_id = k.account_id
                  ORDER BY f.created_at, f.key_id LIMIT 1);

CREATE INDEX api_keys_account_key_idx ON api_keys (account_id, key_id);
DROP INDEX api_keys_account_idx;
