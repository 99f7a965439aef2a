-- Scoring rules as commands need them: the current state of each rule stream, written in the
-- transaction that appends the rule's event (like dedup keys and API keys), so every lead
-- command scores with exactly the rules committed before it. The events stay the source of
-- truth; a deleted rule's row is removed.
CREATE TABLE scoring_rules (
    tenant_id  uuid    NOT NULL,
    rule_id    uuid    NOT NULL,
    name       text    NOT NULL,
    expression text    NOT NULL,
    weight     float8  NOT NULL,
    priority   bigint  NOT NULL,
    version    bigint  NOT NULL, -- the rule stream's version
    created_at bigint  NOT NULL,
    updated_at bigint  NOT NULL,
    PRIMARY KEY (tenant_id, rule_id)
);
CREATE INDEX scoring_rules_order_idx ON scoring_rules (tenant_id, priority, created_at, rule_id);

-- Background rescoring of a whole account after its rules changed (or on request): worked
-- through in batches by lead id; `cursor` and the counts commit with each batch, so a crash
-- resumes where it stopped. A newer job of the account supersedes an unfinished older one.
CREATE TABLE rescore_jobs (
    job_id      uuid        PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    reason      text        NOT NULL,
    status      text        NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'running', 'done', 'superseded')),
    total       bigint      NOT NULL DEFAULT 0,
    done        bigint      NOT NULL DEFAULT 0,
    changed     bigint      NOT NULL DEFAULT 0,
    cursor      uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX rescore_jobs_open_idx ON rescore_jobs (created_at) WHERE status IN ('pending', 'running');
CREATE INDEX rescore_jobs_tenant_idx ON rescore_jobs (tenant_id, created_at DESC);
