-- Issue 14: invite links carry a per-hub code a coordinator can change (/invite), and a hub may ask a
-- coordinator to approve each new member.
-- invite_codes: every code a hub has had. The hub's current code is its row with retired_at NULL; an old
-- code stays (retired) so a tap on an old link is recognised as such and refused, never mistaken for a hub.
-- Holds nothing about any person.
CREATE TABLE invite_codes (
    code        TEXT PRIMARY KEY,
    hub_id      TEXT NOT NULL REFERENCES hubs (id),
    created_at  TEXT NOT NULL,
    retired_at  TEXT
);
CREATE UNIQUE INDEX invite_codes_current ON invite_codes (hub_id) WHERE retired_at IS NULL;

-- join_requests: someone who finished joining a hub that needs a coordinator's yes. At most one open request
-- per person and hub. decided_by is the coordinator's Telegram id (staff, not the subject). Deleted with the
-- person; decided requests go with the retention run after retention.join_drafts_after_days.
CREATE TABLE join_requests (
    id            INTEGER PRIMARY KEY,
    member_id     INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    hub_id        TEXT NOT NULL REFERENCES hubs (id),
    requested_at  TEXT NOT NULL,
    decided_at    TEXT,
    decision      TEXT CHECK (decision IN ('accepted', 'declined')),
    decided_by    INTEGER
);
CREATE UNIQUE INDEX join_requests_open ON join_requests (member_id, hub_id) WHERE decided_at IS NULL;
CREATE INDEX join_requests_hub ON join_requests (hub_id, decided_at);
