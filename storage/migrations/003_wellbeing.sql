-- Wellbeing: after-session check-ins, term measures (ONS4, loneliness, ...), safeguarding alerts.
-- member_id becomes NULL when an answer is anonymised (retention) or the person is forgotten,
-- so term and funder figures stay while nobody can be found in them.

CREATE TABLE checkins (
    id                 INTEGER PRIMARY KEY,
    session_id         INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    hub_id             TEXT NOT NULL REFERENCES hubs (id),
    member_id          INTEGER REFERENCES members (id) ON DELETE SET NULL,
    feeling            TEXT CHECK (feeling IN ('happier', 'same', 'less_happy')),
    connected          TEXT CHECK (connected IN ('yes', 'a_little', 'not_really')),
    absent             INTEGER NOT NULL DEFAULT 0,
    answered_as        TEXT NOT NULL DEFAULT 'self' CHECK (answered_as IN ('self', 'with_support', 'on_behalf')),
    first_answered_at  TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    anonymised_at      TEXT,
    UNIQUE (session_id, member_id)
);
CREATE INDEX checkins_hub_session ON checkins (hub_id, session_id);
CREATE INDEX checkins_member ON checkins (member_id);

-- One person's pass through one question set at the start or end of a term.
CREATE TABLE measure_runs (
    id             INTEGER PRIMARY KEY,
    member_id      INTEGER REFERENCES members (id) ON DELETE SET NULL,
    hub_id         TEXT NOT NULL REFERENCES hubs (id),
    term           TEXT NOT NULL,
    point          TEXT NOT NULL CHECK (point IN ('start', 'end')),
    question_set   TEXT NOT NULL,
    answered_as    TEXT NOT NULL DEFAULT 'self' CHECK (answered_as IN ('self', 'with_support', 'on_behalf')),
    position       INTEGER NOT NULL DEFAULT 0,
    started_at     TEXT NOT NULL,
    paused_at      TEXT,
    completed_at   TEXT,
    anonymised_at  TEXT,
    UNIQUE (member_id, hub_id, term, point, question_set)
);
CREATE INDEX measure_runs_hub_term ON measure_runs (hub_id, term, point);

CREATE TABLE measure_answers (
    run_id       INTEGER NOT NULL REFERENCES measure_runs (id) ON DELETE CASCADE,
    item         TEXT NOT NULL,
    scale        TEXT NOT NULL,
    value        INTEGER,
    skipped      INTEGER NOT NULL DEFAULT 0,
    answered_at  TEXT NOT NULL,
    PRIMARY KEY (run_id, item)
);

-- Safeguarding alerts to a hub's lead. Never holds a score: only what was pressed.
CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY,
    hub_id           TEXT NOT NULL REFERENCES hubs (id),
    member_id        INTEGER REFERENCES members (id) ON DELETE SET NULL,
    session_id       INTEGER REFERENCES sessions (id) ON DELETE SET NULL,
    trigger          TEXT NOT NULL CHECK (trigger IN ('talk_request', 'low_checkin', 'low_measure')),
    raised_at        TEXT NOT NULL,
    acknowledged_at  TEXT,
    acknowledged_by  INTEGER,
    repeats          INTEGER NOT NULL DEFAULT 0,
    escalated_at     TEXT
);
CREATE INDEX alerts_open ON alerts (acknowledged_at, raised_at);
CREATE INDEX alerts_hub ON alerts (hub_id, raised_at);
