-- The lead read model, maintained by the projector from the event store (invariant 1: it can be
-- rebuilt from the events at any time; `projector rebuild` does so into fresh tables and swaps
-- them in, copying every index defined here).
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;

CREATE TABLE lead_view (
    tenant_id           uuid             NOT NULL,
    lead_id             uuid             NOT NULL,
    -- Stream version of the last applied event: a replayed older event changes nothing.
    version             bigint           NOT NULL,
    -- Deleted leads stay as tombstones so a replay cannot bring them back.
    deleted             boolean          NOT NULL DEFAULT false,
    name                text             NOT NULL,
    source              text             NOT NULL,
    status              text             NOT NULL,
    description         text,
    address             text,
    city                text,
    state               text,
    country             text,
    postal_code         text,
    latitude            double precision,
    longitude           double precision,
    phone               text,
    email               text,
    website             text,
    rating              double precision,
    review_count        bigint,
    category            text,
    source_id           text,
    logo_url            text,
    tags                text[]           NOT NULL DEFAULT '{}',
    attributes          jsonb            NOT NULL DEFAULT '[]',
    score               double precision NOT NULL DEFAULT 0,
    created_at          bigint           NOT NULL,
    updated_at          bigint           NOT NULL,
    last_interaction_at bigint           NOT NULL,
    PRIMARY KEY (tenant_id, lead_id)
);
CREATE INDEX lead_view_created_idx ON lead_view (tenant_id, created_at, lead_id) WHERE NOT deleted;

-- One typed row per attribute, for `attr:<name>` filters and sorts.
CREATE TABLE lead_view_attrs (
    tenant_id  uuid             NOT NULL,
    lead_id    uuid             NOT NULL,
    name       text             NOT NULL,
    kind       text             NOT NULL,
    num        double precision,
    text_lower text,
    PRIMARY KEY (tenant_id, lead_id, name)
);
