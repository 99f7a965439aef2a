-- Request rate limits (SPEC §8): a sliding window per API key, shared by every replica.
-- Hits are counted in one-second buckets; the window is the last `window_secs` buckets.
CREATE TABLE rate_hits (
    key_id uuid   NOT NULL,
    bucket bigint NOT NULL, -- Unix seconds
    hits   integer NOT NULL,
    PRIMARY KEY (key_id, bucket)
);

-- Takes one request from `p_key`'s budget of `p_limit` per `p_window_secs` if there is room.
-- Calls for one key are serialized by a transaction-scoped advisory lock, so replicas never
-- both spend the last slot. A refused request is not counted. `retry_after` (seconds, ≥ 1) is
-- when enough of the window's hits will have aged out to allow one more request.
CREATE FUNCTION rate_take(p_key uuid, p_now bigint, p_limit integer, p_window_secs integer)
RETURNS TABLE (allowed boolean, used integer, retry_after integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_used integer;
    v_oldest_needed bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('rate:' || p_key::text, 0));
    SELECT coalesce(sum(h.hits), 0)::integer INTO v_used
      FROM rate_hits h
     WHERE h.key_id = p_key AND h.bucket > p_now - p_window_secs;
    IF v_used < p_limit THEN
        INSERT INTO rate_hits AS h (key_id, bucket, hits) VALUES (p_key, p_now, 1)
        ON CONFLICT (key_id, bucket) DO UPDATE SET hits = h.hits + 1;
        -- Forget what has left the window (cheap: the key's rows are adjacent in the index).
        DELETE FROM rate_hits h WHERE h.key_id = p_key AND h.bucket <= p_now - p_window_secs;
        RETURN QUERY SELECT true, v_used + 1, 0;
        RETURN;
    END IF;
    -- Refused: find the bucket whose ageing out brings the count below the limit.
    SELECT b.bucket INTO v_oldest_needed FROM (
        SELECT h.bucket, sum(h.hits) OVER (ORDER BY h.bucket) AS running
          FROM rate_hits h
         WHERE h.key_id = p_key AND h.bucket > p_now - p_window_secs
    ) b
     WHERE b.running >= v_used - p_limit + 1
     ORDER BY b.bucket
     LIMIT 1;
    RETURN QUERY SELECT false, v_used,
        greatest(1, (coalesce(v_oldest_needed, p_now) + p_window_secs - p_now)::integer);
END;
$$;
