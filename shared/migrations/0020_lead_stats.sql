-- Lead statistics as counters (issue 14: GET /stats, /stats/categories, /stats/cities, each
-- fast at a million leads, where a GROUP BY over the read model is not). One row per account,
-- dimension and value, kept by statement-level triggers on the read model's tables, so every
-- writer of `lead_view` and `lead_scores` — the projector, a rebuild's catch-up — keeps them in
-- step in its own transaction (read-your-writes comes with the read model's).
--
-- Dimensions of a live (not deleted) lead: `total` (''), `status`, `source`, `category` and
-- `city` (their values, empty ones left out), `email` and `phone` ('' when present), `hour`
-- (its creation hour, UTC, 'YYYY-MM-DD HH24'), `score` ('': `sum` holds the sum of scores) and
-- `above70` ('' when its score is above 70). The score comes from `lead_scores`; a lead counts
-- its score only while both rows exist and it is not deleted, whichever is written first.
CREATE TABLE lead_stats (
    tenant_id uuid             NOT NULL,
    dim       text             NOT NULL,
    key       text             NOT NULL,
    count     bigint           NOT NULL DEFAULT 0,
    sum       double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, dim, key)
);
-- Top values by count (categories, cities, sources).
CREATE INDEX lead_stats_top_idx ON lead_stats (tenant_id, dim, count DESC, key);

-- The contributions of one lead row, times `sign` (1 adds them, -1 takes them away).
CREATE FUNCTION lead_stats_of(sign int, tenant uuid, lead uuid, deleted bool, status text,
                              source text, category text, city text, email text, phone text,
                              created_at bigint)
RETURNS TABLE (tenant_id uuid, dim text, key text, n bigint, v double precision)
LANGUAGE sql STABLE AS $$
    SELECT tenant, d.dim, d.key, sign::bigint, sign * d.v
    FROM (SELECT (SELECT s.score FROM lead_scores s
                  WHERE s.tenant_id = tenant AND s.lead_id = lead) AS score) AS sc
    CROSS JOIN LATERAL (VALUES
        ('total', '', 0::float8),
        ('status', status, 0),
        ('source', source, 0),
        ('category', NULLIF(category, ''), 0),
        ('city', NULLIF(city, ''), 0),
        ('email', CASE WHEN coalesce(email, '') <> '' THEN '' END, 0),
        ('phone', CASE WHEN coalesce(phone, '') <> '' THEN '' END, 0),
        ('hour', to_char(to_timestamp(created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24'), 0),
        ('score', CASE WHEN sc.score IS NOT NULL THEN '' END, coalesce(sc.score, 0)),
        ('above70', CASE WHEN sc.score > 70 THEN '' END, 0)
    ) AS d(dim, key, v)
    WHERE NOT deleted AND d.key IS NOT NULL
$$;

-- The changed rows of a statement, signed: old rows taken away, new rows added.
CREATE FUNCTION lead_stats_changes(op text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE op
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, r.* FROM new_rows r'
        WHEN 'UPDATE' THEN 'SELECT -1 AS sign, r.* FROM old_rows r UNION ALL SELECT 1, r.* FROM new_rows r'
        ELSE 'SELECT -1 AS sign, r.* FROM old_rows r'
    END
$$;

CREATE FUNCTION lead_stats_view_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO lead_stats AS s (tenant_id, dim, key, count, sum)
         SELECT c.tenant_id, c.dim, c.key, sum(c.n), sum(c.v)
         FROM (%s) AS ch
         CROSS JOIN LATERAL lead_stats_of(ch.sign, ch.tenant_id, ch.lead_id, ch.deleted,
             ch.status, ch.source, ch.category, ch.city, ch.email, ch.phone, ch.created_at) AS c
         GROUP BY 1, 2, 3
         HAVING sum(c.n) <> 0 OR sum(c.v) <> 0
         ON CONFLICT (tenant_id, dim, key) DO UPDATE
         SET count = s.count + EXCLUDED.count, sum = s.sum + EXCLUDED.sum',
        lead_stats_changes(TG_OP));
    RETURN NULL;
END $$;

-- A score counts for a live lead whose view row exists.
CREATE FUNCTION lead_stats_scores_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO lead_stats AS s (tenant_id, dim, key, count, sum)
         SELECT ch.tenant_id, d.dim, '''', sum(d.n), sum(d.v)
         FROM (%s) AS ch
         JOIN lead_view v ON v.tenant_id = ch.tenant_id AND v.lead_id = ch.lead_id AND NOT v.deleted
         CROSS JOIN LATERAL (VALUES
             (''score'', ch.sign::bigint, ch.sign * ch.score),
             (''above70'', (CASE WHEN ch.score > 70 THEN ch.sign ELSE 0 END)::bigint, 0::float8)
         ) AS d(dim, n, v)
         GROUP BY 1, 2
         HAVING sum(d.n) <> 0 OR sum(d.v) <> 0
         ON CONFLICT (tenant_id, dim, key) DO UPDATE
         SET count = s.count + EXCLUDED.count, sum = s.sum + EXCLUDED.sum',
        lead_stats_changes(TG_OP));
    RETURN NULL;
END $$;

-- (Re)creates the triggers on the live tables: here, and after a rebuild swaps fresh tables in.
CREATE FUNCTION lead_stats_install() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('lead_view', 'lead_stats_view_changed'),
                                   ('lead_scores', 'lead_stats_scores_changed')) AS x(tab, fn) LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS lead_stats_insert ON %I', t.tab);
        EXECUTE format('DROP TRIGGER IF EXISTS lead_stats_update ON %I', t.tab);
        EXECUTE format('DROP TRIGGER IF EXISTS lead_stats_delete ON %I', t.tab);
        EXECUTE format('CREATE TRIGGER lead_stats_insert AFTER INSERT ON %I
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION %I()', t.tab, t.fn);
        EXECUTE format('CREATE TRIGGER lead_stats_update AFTER UPDATE ON %I
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION %I()', t.tab, t.fn);
        EXECUTE format('CREATE TRIGGER lead_stats_delete AFTER DELETE ON %I
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION %I()', t.tab, t.fn);
    END LOOP;
END $$;

-- Counts everything again from the live tables (here, and after a rebuild's swap).
CREATE FUNCTION lead_stats_recount() RETURNS void LANGUAGE sql AS $$
    DELETE FROM lead_stats;
    INSERT INTO lead_stats (tenant_id, dim, key, count, sum)
    SELECT c.tenant_id, c.dim, c.key, sum(c.n), sum(c.v)
    FROM lead_view r
    CROSS JOIN LATERAL lead_stats_of(1, r.tenant_id, r.lead_id, r.deleted, r.status, r.source,
        r.category, r.city, r.email, r.phone, r.created_at) AS c
    GROUP BY 1, 2, 3;
$$;

SELECT lead_stats_install();
SELECT lead_stats_recount();
