-- Index keys bounded in bytes (issue 11): a value the write side accepts must always fit its
-- indexes (a b-tree entry holds at most ~2.7 kB; 1,000 CJK characters are 3,000 bytes), or the
-- projector fails on it for everyone. Text sort and filter indexes hold the first 256
-- characters (at most 1 kB) of the lower-cased value; queries use the same expression (and
-- compare the whole value too, for equality). Dedup keys longer than 256 bytes are stored as
-- their SHA-256 (`sha256:<hex>`, as `shared::dedup` computes them).

DROP INDEX lead_view_name_idx;
CREATE INDEX lead_view_name_idx ON lead_view
    (tenant_id, (left(coalesce(lower(name), ''), 256)), lead_id) WHERE NOT deleted;
DROP INDEX lead_view_city_idx;
CREATE INDEX lead_view_city_idx ON lead_view
    (tenant_id, (left(coalesce(lower(city), ''), 256)), lead_id) WHERE NOT deleted;
DROP INDEX lead_view_email_idx;
CREATE INDEX lead_view_email_idx ON lead_view
    (tenant_id, (left(coalesce(lower(email), ''), 256))) WHERE NOT deleted;
DROP INDEX lead_view_city_rating_idx;
CREATE INDEX lead_view_city_rating_idx ON lead_view
    (tenant_id, (left(coalesce(lower(city), ''), 256)), (coalesce(rating, -1e308::float8)), lead_id)
    WHERE NOT deleted;
DROP INDEX lead_view_attrs_text_idx;
CREATE INDEX lead_view_attrs_text_idx ON lead_view_attrs
    (tenant_id, name, (left(coalesce(text_lower, ''), 256)));

UPDATE dedup_keys SET key = 'sha256:' || encode(sha256(convert_to(key, 'UTF8')), 'hex')
    WHERE octet_length(key) > 256;
