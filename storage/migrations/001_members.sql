-- Hubs, the people who joined them, the companions they bring, and their consents.
CREATE TABLE hubs (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    venue       TEXT NOT NULL DEFAULT '',
    timezone    TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    updated_at  TEXT NOT NULL
);

CREATE TABLE members (
    id                INTEGER PRIMARY KEY,
    telegram_user_id  INTEGER NOT NULL UNIQUE,
    chat_id           INTEGER NOT NULL,
    first_name        TEXT NOT NULL,
    language          TEXT NOT NULL DEFAULT 'en',
    role              TEXT NOT NULL CHECK (role IN ('family', 'carer', 'participant', 'volunteer')),
    reachable         INTEGER NOT NULL DEFAULT 1,
    paused            INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX members_chat ON members (chat_id);

CREATE TABLE companions (
    id            INTEGER PRIMARY KEY,
    member_id     INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    age_band      TEXT NOT NULL,
    relationship  TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    removed_at    TEXT
);
CREATE INDEX companions_member ON companions (member_id);

CREATE TABLE memberships (
    member_id  INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    hub_id     TEXT NOT NULL REFERENCES hubs (id),
    joined_at  TEXT NOT NULL,
    left_at    TEXT,
    PRIMARY KEY (member_id, hub_id)
);
CREATE INDEX memberships_hub ON memberships (hub_id, left_at);

CREATE TABLE consents (
    id            INTEGER PRIMARY KEY,
    member_id     INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('contact', 'wellbeing')),
    text_version  TEXT NOT NULL,
    given_at      TEXT NOT NULL,
    withdrawn_at  TEXT
);
CREATE INDEX consents_member ON consents (member_id, kind);

-- The answers of someone half-way through joining, so a restart loses nothing.
-- Holds no name: the member row is written only once contact consent is given.
CREATE TABLE join_drafts (
    telegram_user_id  INTEGER PRIMARY KEY,
    hub_id            TEXT NOT NULL REFERENCES hubs (id),
    step              TEXT NOT NULL,
    data              TEXT NOT NULL DEFAULT '{}',
    updated_at        TEXT NOT NULL
);

-- What a person's next free-text message means (a companion's name, a cancel reason, ...).
CREATE TABLE awaiting_input (
    telegram_user_id  INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL,
    data              TEXT NOT NULL DEFAULT '{}',
    updated_at        TEXT NOT NULL
);
