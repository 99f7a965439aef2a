-- "Leads of a city, best rated first" (a city filter sorted by rating, the most common list
-- query of a lead database): one index answers the filter, the order and the keyset condition,
-- so a rare city does not scan the whole rating order to fill a page.
CREATE INDEX lead_view_city_rating_idx ON lead_view
    (tenant_id, (coalesce(lower(city), '')), (coalesce(rating, -1e308::float8)), lead_id)
    WHERE NOT deleted;
