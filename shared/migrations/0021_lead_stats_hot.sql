-- Lead statistics, measured at a million leads (issue 14): every counter update also moved an
-- entry in an index on `count`, so no update was HOT and the few rows every batch touches (an
-- account's total, its status, the hour) grew chains of dead versions the upsert walked — the
-- live projector fell to ~200 leads/s. The top-N reads sort an account's values of one
-- dimension instead (the primary key finds them), and the table keeps room for HOT updates.
-- The contributions are computed in one set-based statement per trigger firing (a join with
-- `lead_scores`) instead of a function call per row.
DROP INDEX IF EXISTS lead_stats_top_idx;
ALTER TABLE lead_stats SET (fillfactor = 50);

-- The statement adding the signed contributions of the lead rows `source` yields (columns
-- `sign` and those of `lead_view`).
CREATE FUNCTION lead_stats_upsert(source text) RETURNS text LANGUAGE sql IMMUTABLE AS $f$
    SELECT format($q$
        INSERT INTO lead_stats AS s (tenant_id, dim, key, count, sum)
        SELECT ch.tenant_id, d.dim, d.key, sum(ch.sign)::int8, sum(ch.sign * d.v)
        FROM (%s) AS ch
        LEFT JOIN lead_scores sc ON sc.tenant_id = ch.tenant_id AND sc.lead_id = ch.lead_id
        CROSS JOIN LATERAL (VALUES
            ('total', '', 0::float8),
            ('status', ch.status, 0),
            ('source', ch.source, 0),
            ('category', NULLIF(ch.category, ''), 0),
            ('city', NULLIF(ch.city, ''), 0),
            ('email', CASE WHEN coalesce(ch.email, '') <> '' THEN '' END, 0),
            ('phone', CASE WHEN coalesce(ch.phone, '') <> '' THEN '' END, 0),
            ('hour', to_char(to_timestamp(ch.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24'), 0),
            ('score', CASE WHEN sc.score IS NOT NULL THEN '' END, coalesce(sc.score, 0)),
            ('above70', CASE WHEN sc.score > 70 THEN '' END, 0)
        ) AS d(dim, key, v)
        WHERE NOT ch.deleted AND d.key IS NOT NULL
        GROUP BY 1, 2, 3
        HAVING sum(ch.sign) <> 0 OR sum(ch.sign * d.v) <> 0
        ON CONFLICT (tenant_id, dim, key) DO UPDATE
        SET count = s.count + EXCLUDED.count, sum = s.sum + EXCLUDED.sum$q$, source)
$f$;

CREATE OR REPLACE FUNCTION lead_stats_view_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE lead_stats_upsert(lead_stats_changes(TG_OP));
    RETURN NULL;
END $$;

DROP FUNCTION lead_stats_recount();
CREATE FUNCTION lead_stats_recount() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM lead_stats;
    EXECUTE lead_stats_upsert('SELECT 1 AS sign, r.* FROM lead_view r');
END $$;

DROP FUNCTION lead_stats_of(int, uuid, uuid, bool, text, text, text, text, text, text, bigint);
