-- Issue 16: the coordinators' dashboard (a Telegram Mini App). Sign-in links and sessions keep only a SHA-256
-- hash of their secret, so a copy of the database lets nobody in. Both expire; expired rows are deleted at
-- every sign-in and by retention.
CREATE TABLE dashboard_links (
    token_hash TEXT PRIMARY KEY,
    telegram_user_id INTEGER NOT NULL,
    language TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

CREATE TABLE dashboard_sessions (
    token_hash TEXT PRIMARY KEY,
    telegram_user_id INTEGER NOT NULL,
    language TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX dashboard_sessions_user ON dashboard_sessions (telegram_user_id);

-- "Contacted" on the follow-up list: a coordinator reached out to a member who missed sessions or went quiet.
CREATE TABLE follow_up_contacts (
    id INTEGER PRIMARY KEY,
    hub_id TEXT NOT NULL REFERENCES hubs (id),
    member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    contacted_by INTEGER,
    contacted_at TEXT NOT NULL
);
CREATE INDEX follow_up_contacts_member ON follow_up_contacts (hub_id, member_id, contacted_at);
