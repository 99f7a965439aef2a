-- `within_radius` prefilters with a latitude/longitude box on a GiST index of plain points
-- (point_ops builds sorted, several times faster than a GiST over earth cubes, which matters
-- for `projector rebuild`), then checks the exact great-circle distance on the candidates.
DROP INDEX IF EXISTS lead_view_geo_idx;
CREATE INDEX lead_view_geo_idx ON lead_view USING gist (point(longitude, latitude))
    WHERE latitude IS NOT NULL AND NOT deleted;
