-- Issue 17: referrals from link workers and mental health teams.
-- A link is made by a coordinator for an organisation. It has two codes: the people's link (/start ref_<code>)
-- and the referrer's own link (/start rfw_<referrer_code>), which registers the chat that may receive the one
-- "they came" notice. The referrer's name is never stored: only the organisation, and their chat id and language.
CREATE TABLE referral_links (
    id                  INTEGER PRIMARY KEY,
    code                TEXT NOT NULL UNIQUE,
    referrer_code       TEXT NOT NULL UNIQUE,
    hub_id              TEXT NOT NULL REFERENCES hubs (id),
    organisation        TEXT NOT NULL,
    created_by          INTEGER,            -- Telegram user id of the coordinator (NULL once they are forgotten)
    created_at          TEXT NOT NULL,
    referrer_chat_id    INTEGER,            -- set when the referrer opens their own link
    referrer_language   TEXT,
    referrer_since      TEXT,
    last_used_at        TEXT
);
CREATE INDEX referral_links_hub ON referral_links (hub_id);

-- A member who joined through a referral link, and their separate answer about telling the referrer.
CREATE TABLE member_referrals (
    member_id          INTEGER PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    link_id            INTEGER NOT NULL REFERENCES referral_links (id),
    hub_id             TEXT NOT NULL REFERENCES hubs (id),
    referred_at        TEXT NOT NULL,
    notify_consent     INTEGER NOT NULL DEFAULT 0,
    consent_version    TEXT,
    consent_at         TEXT,
    notice_planned_at  TEXT                 -- the one notice was put in the ledger (never again)
);
CREATE INDEX member_referrals_link ON member_referrals (link_id);
