-- Retention (issue 6): one row per local day on which old individual answers were detached from people.
-- The database, not the scheduler's memory, says whether today's run is done, so a restart neither
-- repeats nor skips it.
CREATE TABLE retention_runs (
    local_date  TEXT PRIMARY KEY,
    ran_at      TEXT NOT NULL,
    cutoff      TEXT NOT NULL,
    anonymised  INTEGER NOT NULL DEFAULT 0
);
