-- Registers: who was really at a session, as the coordinator marked it.
-- A session without a saved register has its attendance inferred from check-ins and RSVPs.

CREATE TABLE registers (
    session_id  INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    opened_by   INTEGER NOT NULL,   -- Telegram user id of the coordinator
    opened_at   TEXT NOT NULL,
    saved_by    INTEGER,
    saved_at    TEXT                -- NULL while the register is still being taken
);

-- One row per person on a register: a member, one of a member's companions, or a walk-in
-- (someone without Telegram: first name and, if known, age band only).
CREATE TABLE attendance (
    id            INTEGER PRIMARY KEY,
    session_id    INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    member_id     INTEGER REFERENCES members (id) ON DELETE CASCADE,
    companion_id  INTEGER REFERENCES companions (id) ON DELETE CASCADE,
    walk_in_name  TEXT,
    age_band      TEXT,
    present       INTEGER NOT NULL DEFAULT 0,
    marked_by     INTEGER NOT NULL,
    marked_at     TEXT NOT NULL,
    CHECK ((member_id IS NULL) != (walk_in_name IS NULL)),
    CHECK (companion_id IS NULL OR member_id IS NOT NULL)
);
CREATE UNIQUE INDEX attendance_person ON attendance (session_id, member_id, COALESCE(companion_id, 0))
    WHERE member_id IS NOT NULL;
CREATE INDEX attendance_session ON attendance (session_id, present);
CREATE INDEX attendance_member ON attendance (member_id);
