-- Co-design (issue 17): a coordinator's question to a hub with two to six answers, members' answers to it,
-- and ideas members send in their own words.
--
-- A question is stored once; each member's copy is a row in `deliveries`. `created_by` and `closed_by` are
-- coordinators' Telegram ids (staff, not members); `closed_by` is NULL when it closed at its own time.
-- `options` is a JSON list of the answers, in the order they are shown.
CREATE TABLE codesign_questions (
    id          INTEGER PRIMARY KEY,
    hub_id      TEXT NOT NULL REFERENCES hubs (id),
    text        TEXT NOT NULL,
    options     TEXT NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    closes_at   TEXT NOT NULL,
    closed_at   TEXT,
    closed_by   INTEGER,
    recipients  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX codesign_questions_open ON codesign_questions (closed_at, closes_at);
CREATE INDEX codesign_questions_hub ON codesign_questions (hub_id, closed_at);

-- One answer per member and question; a second tap changes `choice` (an index into `options`).
-- Erasure deletes a member's answers; retention detaches old ones (member_id NULL), so counts stay.
CREATE TABLE codesign_answers (
    id             INTEGER PRIMARY KEY,
    question_id    INTEGER NOT NULL REFERENCES codesign_questions (id),
    member_id      INTEGER REFERENCES members (id),
    choice         INTEGER NOT NULL,
    answered_at    TEXT NOT NULL,
    changed_at     TEXT,
    changes        INTEGER NOT NULL DEFAULT 0,
    anonymised_at  TEXT
);
CREATE UNIQUE INDEX codesign_answers_one ON codesign_answers (question_id, member_id);

-- An idea in the member's own words, for one hub's coordinators. Erasure deletes it; retention detaches it
-- from the member and removes its words (text NULL), so only the count stays.
CREATE TABLE codesign_ideas (
    id             INTEGER PRIMARY KEY,
    hub_id         TEXT NOT NULL REFERENCES hubs (id),
    member_id      INTEGER REFERENCES members (id),
    text           TEXT,
    sent_at        TEXT NOT NULL,
    anonymised_at  TEXT
);
CREATE INDEX codesign_ideas_hub ON codesign_ideas (hub_id, sent_at);
CREATE INDEX codesign_ideas_member ON codesign_ideas (member_id);
CREATE INDEX codesign_answers_member ON codesign_answers (member_id);

-- The nightly retention run also detaches other old personal rows (storage/person_map.py `retained_by`: co-design
-- answers and ideas), and records how many.
ALTER TABLE retention_runs ADD COLUMN other_rows_detached INTEGER NOT NULL DEFAULT 0;
