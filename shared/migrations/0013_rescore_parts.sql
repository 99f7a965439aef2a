-- A rescore job is worked in parts: ranges of lead ids, each with its own cursor, so several
-- workers (tasks of one command-service, or replicas) rescore one account at once, each part
-- locked per batch (`SKIP LOCKED`). A part covers the ids after its first cursor (NULL: from
-- the start) up to `upto` (NULL: to the end). The job keeps the totals; it is done when its
-- last part is.
CREATE TABLE rescore_parts (
    job_id   uuid    NOT NULL REFERENCES rescore_jobs (job_id),
    part     integer NOT NULL,
    cursor   uuid,
    upto     uuid,
    finished boolean NOT NULL DEFAULT false,
    PRIMARY KEY (job_id, part)
);
-- A job already running goes on as one part from where it is.
INSERT INTO rescore_parts (job_id, part, cursor)
    SELECT job_id, 0, cursor FROM rescore_jobs WHERE status = 'running';
