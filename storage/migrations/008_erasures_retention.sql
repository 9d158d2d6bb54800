-- Erasures (issue 13): one row per /forget, so that a restored backup can forget the same people again.
-- It holds no personal data: `subject` is an HMAC-SHA256 of the Telegram user id, keyed by a secret kept
-- outside the database (privacy.erasure_key, or a generated key file beside it), so the row cannot be turned
-- back into an id by trying every possible one.
CREATE TABLE erasures (
    id         INTEGER PRIMARY KEY,
    subject    TEXT NOT NULL,
    erased_at  TEXT NOT NULL
);
CREATE INDEX erasures_at ON erasures (erased_at);

-- The nightly retention run now also removes abandoned joins and pending inputs, detaches old safeguarding
-- alerts and prunes the delivery rows of past sessions; what it did is recorded with the day it did it.
ALTER TABLE retention_runs ADD COLUMN drafts_removed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE retention_runs ADD COLUMN inputs_removed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE retention_runs ADD COLUMN alerts_detached INTEGER NOT NULL DEFAULT 0;
ALTER TABLE retention_runs ADD COLUMN deliveries_pruned INTEGER NOT NULL DEFAULT 0;
