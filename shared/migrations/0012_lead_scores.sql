-- Scores in a narrow read-model table of their own. A rescore moves every lead's score; in
-- `lead_view` each such move rewrote a whole wide row and inserted into all of its fourteen
-- indexes (measured: ~120 s of Postgres CPU per million rescored leads). Here it touches a
-- 70-byte row and two indexes. Every lead_view row has its lead_scores row (both written by
-- the lead projection, in one transaction). Each table carries the stream version it is at:
-- the lead's state is `lead_view` + `lead_scores.score` as of the greater of the two, since
-- every event between them changed only what the further-ahead table holds.
CREATE TABLE lead_scores (
    tenant_id uuid             NOT NULL,
    lead_id   uuid             NOT NULL,
    -- Stream version of the last event applied to the score.
    version   bigint           NOT NULL,
    score     double precision NOT NULL,
    PRIMARY KEY (tenant_id, lead_id)
);
INSERT INTO lead_scores (tenant_id, lead_id, version, score)
    SELECT tenant_id, lead_id, version, score FROM lead_view;
CREATE INDEX lead_scores_score_idx ON lead_scores (tenant_id, score, lead_id);
DROP INDEX IF EXISTS lead_view_score_idx;
ALTER TABLE lead_view DROP COLUMN score;
-- Planner statistics now: without them a join with the fresh table was planned as a hash of
-- the whole account (an attribute filter measured at 600 ms instead of 2 ms).
ANALYZE lead_scores;
