-- Lead statistics keep any value the write side accepts (issue 14): a city of 1,000 varied
-- CJK characters is 3,000 bytes, more than a b-tree entry holds (~2.7 kB), so the counter's
-- primary key made the projector quarantine that lead. The counters are unique by the MD5 of
-- the value instead (a fixed 16 bytes per entry); the value itself stays whole in `key`.
ALTER TABLE lead_stats DROP CONSTRAINT lead_stats_pkey;
CREATE UNIQUE INDEX lead_stats_key_idx ON lead_stats (tenant_id, dim, md5(key));

CREATE OR REPLACE FUNCTION lead_stats_upsert(source text) RETURNS text LANGUAGE sql IMMUTABLE AS $f$
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
        ON CONFLICT (tenant_id, dim, md5(key)) DO UPDATE
        SET count = s.count + EXCLUDED.count, sum = s.sum + EXCLUDED.sum$q$, source)
$f$;

CREATE OR REPLACE FUNCTION lead_stats_scores_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
         ON CONFLICT (tenant_id, dim, md5(key)) DO UPDATE
         SET count = s.count + EXCLUDED.count, sum = s.sum + EXCLUDED.sum',
        lead_stats_changes(TG_OP));
    RETURN NULL;
END $$;
