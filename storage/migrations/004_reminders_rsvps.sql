-- Reminders, RSVPs and announcements (issue 3).

-- How a reminder rule was expanded for a session: how many members it was planned for, and whether
-- it was superseded (a later rule of the same session was also due, after downtime, so only that one went).
ALTER TABLE reminder_batches ADD COLUMN recipients INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reminder_batches ADD COLUMN superseded INTEGER NOT NULL DEFAULT 0;

-- The waiting list of a session, in order.
CREATE INDEX rsvps_waitlist ON rsvps (session_id, waitlisted_at);

-- A coordinator's message to every member of a hub; each member's copy is a row in `deliveries`.
-- `created_by` is the coordinator's Telegram user id (coordinators are configured, not members).
CREATE TABLE announcements (
    id          INTEGER PRIMARY KEY,
    hub_id      TEXT NOT NULL REFERENCES hubs (id),
    text        TEXT NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    recipients  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX announcements_hub ON announcements (hub_id, created_at);
