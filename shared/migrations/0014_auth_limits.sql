-- Brute-force limits on the unauthenticated account endpoints, shared by every replica:
-- failed logins per e-mail and per client address, registrations per client address.
-- Each row is one counted attempt; a window is the attempts of the last `window_secs`.
CREATE TABLE auth_attempts (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope   text   NOT NULL, -- 'login' | 'register'
    subject text   NOT NULL, -- 'email:<lowercased e-mail>' | 'addr:<ip>'
    at_secs bigint NOT NULL  -- Unix seconds
);
CREATE INDEX auth_attempts_subject_idx ON auth_attempts (scope, subject, at_secs);
CREATE INDEX auth_attempts_age_idx ON auth_attempts (at_secs);

-- Counts one attempt against every subject in `p_subjects` if none of them has used up its
-- `p_limit` attempts of the window; otherwise counts nothing and says when (seconds, >= 1)
-- enough attempts will have aged out. Subjects are locked (transaction-scoped advisory
-- locks, taken in sorted order) so replicas never both spend the last attempt. Answers the
-- ids of the rows counted, so a successful login can take its attempt back.
CREATE FUNCTION auth_take(p_scope text, p_subjects text[], p_now bigint, p_limit integer,
                          p_window_secs integer)
RETURNS TABLE (allowed boolean, retry_after integer, ids bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    v_subject text;
    v_count integer;
    v_oldest bigint;
    v_retry integer := 0;
    v_ids bigint[] := '{}';
    v_id bigint;
BEGIN
    FOR v_subject IN SELECT DISTINCT s FROM unnest(p_subjects) AS u(s) ORDER BY s LOOP
        PERFORM pg_advisory_xact_lock(hashtextextended('auth:' || p_scope || ':' || v_subject, 0));
    END LOOP;
    -- Forget attempts that have left every window (cheap: by the age index).
    DELETE FROM auth_attempts a WHERE a.scope = p_scope AND a.at_secs <= p_now - p_window_secs;
    FOREACH v_subject IN ARRAY p_subjects LOOP
        SELECT count(*)::integer INTO v_count FROM auth_attempts a
         WHERE a.scope = p_scope AND a.subject = v_subject AND a.at_secs > p_now - p_window_secs;
        IF v_count >= p_limit THEN
            SELECT a.at_secs INTO v_oldest FROM auth_attempts a
             WHERE a.scope = p_scope AND a.subject = v_subject AND a.at_secs > p_now - p_window_secs
             ORDER BY a.at_secs OFFSET v_count - p_limit LIMIT 1;
            v_retry := greatest(v_retry, 1, (v_oldest + p_window_secs - p_now)::integer);
        END IF;
    END LOOP;
    IF v_retry > 0 THEN
        RETURN QUERY SELECT false, v_retry, '{}'::bigint[];
        RETURN;
    END IF;
    FOREACH v_subject IN ARRAY p_subjects LOOP
        INSERT INTO auth_attempts (scope, subject, at_secs) VALUES (p_scope, v_subject, p_now)
        RETURNING auth_attempts.id INTO v_id;
        v_ids := v_ids || v_id;
    END LOOP;
    RETURN QUERY SELECT true, 0, v_ids;
END;
$$;

-- Request limits are counted per account since this migration (a login issues a new key;
-- counting per key gave every login a fresh budget): `rate_hits.key_id` holds account ids.
COMMENT ON COLUMN rate_hits.key_id IS 'the account whose requests are counted (an account id)';
