-- Sessions, RSVPs and the delivery ledger every scheduled message goes through.
-- `key` is the stable natural id ({hub}-{YYYYMMDD}-{HHMM}[-kind]); `id` is short enough for callback data.
CREATE TABLE sessions (
    id             INTEGER PRIMARY KEY,
    key            TEXT NOT NULL UNIQUE,
    hub_id         TEXT NOT NULL REFERENCES hubs (id),
    kind           TEXT NOT NULL DEFAULT 'weekly' CHECK (kind IN ('weekly', 'celebration', 'sharing', 'event')),
    title          TEXT NOT NULL DEFAULT '',
    term           TEXT,
    starts_at      TEXT NOT NULL,
    ends_at        TEXT NOT NULL,
    local_date     TEXT NOT NULL,
    cancelled_at   TEXT,
    cancel_reason  TEXT,
    created_at     TEXT NOT NULL
);
CREATE INDEX sessions_hub_start ON sessions (hub_id, starts_at);
CREATE INDEX sessions_start ON sessions (starts_at);

CREATE TABLE rsvps (
    session_id     INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    member_id      INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    answer         TEXT NOT NULL CHECK (answer IN ('yes', 'no', 'maybe')),
    all_companions INTEGER NOT NULL DEFAULT 1,
    waitlisted_at  TEXT,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (session_id, member_id)
);
CREATE INDEX rsvps_member ON rsvps (member_id);

-- Which companions come, when the member chose them one by one (all_companions = 0).
CREATE TABLE rsvp_companions (
    session_id    INTEGER NOT NULL,
    member_id     INTEGER NOT NULL,
    companion_id  INTEGER NOT NULL REFERENCES companions (id) ON DELETE CASCADE,
    PRIMARY KEY (session_id, member_id, companion_id),
    FOREIGN KEY (session_id, member_id) REFERENCES rsvps (session_id, member_id) ON DELETE CASCADE
);

-- A reminder rule expanded into deliveries for one session, once.
CREATE TABLE reminder_batches (
    session_id  INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    rule_key    TEXT NOT NULL,
    planned_at  TEXT NOT NULL,
    PRIMARY KEY (session_id, rule_key)
);

-- One row per message the bot owes someone: reminders, check-ins, notices, summaries, alerts.
-- state: pending -> sending -> sent | failed | dropped (stale) | skipped (no longer wanted).
CREATE TABLE deliveries (
    id                   INTEGER PRIMARY KEY,
    kind                 TEXT NOT NULL,
    dedupe_key           TEXT NOT NULL UNIQUE,
    member_id            INTEGER REFERENCES members (id) ON DELETE CASCADE,
    chat_id              INTEGER NOT NULL,
    hub_id               TEXT REFERENCES hubs (id),
    session_id           INTEGER REFERENCES sessions (id) ON DELETE CASCADE,
    due_at               TEXT NOT NULL,
    expires_at           TEXT,
    payload              TEXT NOT NULL DEFAULT '{}',
    state                TEXT NOT NULL DEFAULT 'pending'
                         CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'dropped', 'skipped')),
    attempts             INTEGER NOT NULL DEFAULT 0,
    last_error           TEXT,
    telegram_message_id  INTEGER,
    sent_at              TEXT,
    created_at           TEXT NOT NULL
);
CREATE INDEX deliveries_pending ON deliveries (state, due_at);
CREATE INDEX deliveries_member ON deliveries (member_id);
CREATE INDEX deliveries_session ON deliveries (session_id, kind);
