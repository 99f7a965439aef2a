-- Indexes of the lead read model for SPEC §4's sorts and filters. Sort indexes use exactly the
-- expressions query-service orders by, so one index serves the order, the keyset condition of
-- a cursor and (for text) case-insensitive equality filters. All skip tombstones.
CREATE INDEX lead_view_updated_idx ON lead_view (tenant_id, updated_at, lead_id) WHERE NOT deleted;
CREATE INDEX lead_view_touched_idx ON lead_view (tenant_id, last_interaction_at, lead_id) WHERE NOT deleted;
CREATE INDEX lead_view_score_idx ON lead_view (tenant_id, score, lead_id) WHERE NOT deleted;
CREATE INDEX lead_view_rating_idx ON lead_view (tenant_id, (coalesce(rating, -1e308::float8)), lead_id) WHERE NOT deleted;
CREATE INDEX lead_view_reviews_idx ON lead_view (tenant_id, (coalesce(review_count, -1)), lead_id) WHERE NOT deleted;
CREATE INDEX lead_view_name_idx ON lead_view (tenant_id, (coalesce(lower(name), '')), lead_id) WHERE NOT deleted;
CREATE INDEX lead_view_city_idx ON lead_view (tenant_id, (coalesce(lower(city), '')), lead_id) WHERE NOT deleted;
CREATE INDEX lead_view_email_idx ON lead_view (tenant_id, (coalesce(lower(email), ''))) WHERE NOT deleted;
CREATE INDEX lead_view_status_idx ON lead_view (tenant_id, (coalesce(lower(status), ''))) WHERE NOT deleted;
CREATE INDEX lead_view_tags_idx ON lead_view USING gin (tags) WHERE NOT deleted;
CREATE INDEX lead_view_geo_idx ON lead_view USING gist (ll_to_earth(latitude, longitude))
    WHERE latitude IS NOT NULL AND NOT deleted;
CREATE INDEX lead_view_attrs_num_idx ON lead_view_attrs (tenant_id, name, num);
CREATE INDEX lead_view_attrs_text_idx ON lead_view_attrs (tenant_id, name, text_lower);
