-- Dedup keys, reserved in the transaction that appends a lead's events (invariant 5).
-- kind: 'email' (lower, trimmed), 'source_id' (exact), 'phone' (digits), 'name_city'
-- (lower name + U+001F + lower city). E-mail and source_id are unique per tenant.
CREATE TABLE dedup_keys (
    tenant_id uuid NOT NULL,
    kind      text NOT NULL,
    key       text NOT NULL,
    lead_id   uuid NOT NULL,
    PRIMARY KEY (tenant_id, kind, key, lead_id)
);
CREATE UNIQUE INDEX dedup_keys_unique_email ON dedup_keys (tenant_id, key) WHERE kind = 'email';
CREATE UNIQUE INDEX dedup_keys_unique_source_id ON dedup_keys (tenant_id, key) WHERE kind = 'source_id';
CREATE INDEX dedup_keys_lead_idx ON dedup_keys (lead_id);
