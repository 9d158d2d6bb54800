-- Attendance kept up to date as answers arrive (issue 16): who came to each session, as storage.presence
-- defines it (the register where one was saved, else inferred from check-ins and RSVPs, with the companions
-- each answer brought), so that the summary, the dashboard and the funder report read it instead of working
-- it out from every answer each time.
--
-- `presence` is derived data: it is rebuilt from the answers, never edited by hand. Triggers on every table
-- it is worked out from record what to work out again in `presence_stale`, and storage.presence brings
-- those up to date before anything is read. A change that takes a person away (a row deleted, an answer
-- detached from its member) also deletes their rows here at once, in the same transaction, so their
-- attendance never outlives their answers; erasure and retention then work the rest out before they commit.
-- A row of presence_stale is (session, member): member 0 means the whole session, session 0 every session
-- of that member (a companion added, removed or changed).

CREATE TABLE presence (
    session_id  INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    hub_id      TEXT NOT NULL,
    starts_at   TEXT NOT NULL,
    local_date  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    member      INTEGER,   -- the member who came, or whose companion came; NULL for walk-ins, anonymised answers
    companion   INTEGER,   -- the companion who came (NULL for the member themselves)
    band        TEXT,
    what        TEXT NOT NULL CHECK (what IN ('member', 'companion', 'walk_in', 'anonymous')),
    registered  INTEGER NOT NULL,  -- 1: from a saved register; 0: inferred
    -- one person at a session: a member (their id), a companion (minus its id); NULL: walk-ins, anonymised.
    -- A plain column, not a generated one: SQLite reads an index holding a generated column as not covering.
    person      INTEGER CHECK (person IS CASE WHEN what IN ('walk_in', 'anonymous') THEN NULL
                                              WHEN companion IS NOT NULL THEN -companion ELSE member END)
);
-- Every figure is counted from one of the two covering indexes (storage/snapshot.py names them), so it reads a
-- hub's window in order without looking up a single row: by session (who came when) and by person (new,
-- returning, reach, follow-ups).
CREATE INDEX presence_by_session ON presence (hub_id, starts_at, session_id, what, person, band, kind, local_date,
                                              registered);
CREATE INDEX presence_by_person ON presence (hub_id, person, what, band, starts_at, kind, session_id);
-- Working it out again: by session, and by member.
CREATE INDEX presence_session ON presence (session_id);
CREATE INDEX presence_member ON presence (member, session_id);

CREATE TABLE presence_stale (
    session_id  INTEGER NOT NULL,
    member_id   INTEGER NOT NULL,
    PRIMARY KEY (session_id, member_id)
);

-- Everything there is, worked out on first use.
INSERT INTO presence_stale (session_id, member_id) SELECT id, 0 FROM sessions WHERE cancelled_at IS NULL;

-- RSVPs and the companions chosen with them: one member at one session.
CREATE TRIGGER presence_rsvp_insert AFTER INSERT ON rsvps BEGIN
    INSERT INTO presence_stale SELECT NEW.session_id, NEW.member_id
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = NEW.session_id AND member_id = NEW.member_id);
END;
CREATE TRIGGER presence_rsvp_update AFTER UPDATE OF session_id, member_id, answer, all_companions ON rsvps
WHEN OLD.answer IS NOT NEW.answer OR OLD.all_companions IS NOT NEW.all_companions
     OR OLD.session_id IS NOT NEW.session_id OR OLD.member_id IS NOT NEW.member_id BEGIN
    INSERT INTO presence_stale SELECT OLD.session_id, OLD.member_id
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = OLD.session_id AND member_id = OLD.member_id);
    INSERT INTO presence_stale SELECT NEW.session_id, NEW.member_id
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = NEW.session_id AND member_id = NEW.member_id);
END;
CREATE TRIGGER presence_rsvp_delete AFTER DELETE ON rsvps BEGIN
    DELETE FROM presence WHERE member = OLD.member_id AND session_id = OLD.session_id;
    INSERT INTO presence_stale SELECT OLD.session_id, OLD.member_id
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = OLD.session_id AND member_id = OLD.member_id);
END;
CREATE TRIGGER presence_rsvp_companion_insert AFTER INSERT ON rsvp_companions BEGIN
    INSERT INTO presence_stale SELECT NEW.session_id, NEW.member_id
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = NEW.session_id AND member_id = NEW.member_id);
END;
CREATE TRIGGER presence_rsvp_companion_delete AFTER DELETE ON rsvp_companions BEGIN
    DELETE FROM presence WHERE member = OLD.member_id AND session_id = OLD.session_id
                         AND companion = OLD.companion_id;
    INSERT INTO presence_stale SELECT OLD.session_id, OLD.member_id
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = OLD.session_id AND member_id = OLD.member_id);
END;

-- Check-ins: only whether someone came counts here (not how they felt). A check-in with no member (an
-- anonymised one) counts as someone who came: the whole session is worked out again.
CREATE TRIGGER presence_checkin_insert AFTER INSERT ON checkins BEGIN
    INSERT INTO presence_stale SELECT NEW.session_id, COALESCE(NEW.member_id, 0)
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = NEW.session_id AND member_id = COALESCE(NEW.member_id, 0));
END;
CREATE TRIGGER presence_checkin_update AFTER UPDATE OF session_id, member_id, absent ON checkins
WHEN OLD.absent IS NOT NEW.absent OR OLD.session_id IS NOT NEW.session_id OR OLD.member_id IS NOT NEW.member_id
BEGIN
    DELETE FROM presence WHERE OLD.member_id IS NOT NEW.member_id
                         AND member = OLD.member_id AND session_id = OLD.session_id;
    INSERT INTO presence_stale SELECT OLD.session_id, COALESCE(OLD.member_id, 0)
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = OLD.session_id AND member_id = COALESCE(OLD.member_id, 0));
    INSERT INTO presence_stale SELECT NEW.session_id, COALESCE(NEW.member_id, 0)
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = NEW.session_id AND member_id = COALESCE(NEW.member_id, 0));
END;
CREATE TRIGGER presence_checkin_delete AFTER DELETE ON checkins BEGIN
    DELETE FROM presence WHERE member = OLD.member_id AND session_id = OLD.session_id;
    INSERT INTO presence_stale SELECT OLD.session_id, COALESCE(OLD.member_id, 0)
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = OLD.session_id AND member_id = COALESCE(OLD.member_id, 0));
END;

-- Registers: saving one changes how the whole session is counted; a line of it (walk-ins too) as well.
CREATE TRIGGER presence_register_insert AFTER INSERT ON registers BEGIN
    INSERT INTO presence_stale SELECT NEW.session_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = NEW.session_id AND member_id = 0);
END;
CREATE TRIGGER presence_register_update AFTER UPDATE ON registers BEGIN
    INSERT INTO presence_stale SELECT OLD.session_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = OLD.session_id AND member_id = 0);
    INSERT INTO presence_stale SELECT NEW.session_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = NEW.session_id AND member_id = 0);
END;
CREATE TRIGGER presence_register_delete AFTER DELETE ON registers BEGIN
    INSERT INTO presence_stale SELECT OLD.session_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = OLD.session_id AND member_id = 0);
END;
CREATE TRIGGER presence_line_insert AFTER INSERT ON attendance BEGIN
    INSERT INTO presence_stale SELECT NEW.session_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = NEW.session_id AND member_id = 0);
END;
CREATE TRIGGER presence_line_update AFTER UPDATE ON attendance BEGIN
    DELETE FROM presence WHERE OLD.member_id IS NOT NEW.member_id
                         AND member = OLD.member_id AND session_id = OLD.session_id;
    INSERT INTO presence_stale SELECT OLD.session_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = OLD.session_id AND member_id = 0);
    INSERT INTO presence_stale SELECT NEW.session_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = NEW.session_id AND member_id = 0);
END;
CREATE TRIGGER presence_line_delete AFTER DELETE ON attendance BEGIN
    DELETE FROM presence WHERE member = OLD.member_id AND session_id = OLD.session_id
                         AND companion IS OLD.companion_id AND registered = 1;
    INSERT INTO presence_stale SELECT OLD.session_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = OLD.session_id AND member_id = 0);
END;

-- Companions: who an answer brings depends on when a companion was added or removed, and on their age band.
CREATE TRIGGER presence_companion_insert AFTER INSERT ON companions BEGIN
    INSERT INTO presence_stale SELECT 0, NEW.member_id
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = 0 AND member_id = NEW.member_id);
END;
CREATE TRIGGER presence_companion_update AFTER UPDATE OF member_id, age_band, created_at, removed_at ON companions
BEGIN
    DELETE FROM presence WHERE OLD.member_id IS NOT NEW.member_id AND companion = OLD.id;
    INSERT INTO presence_stale SELECT 0, OLD.member_id
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = 0 AND member_id = OLD.member_id);
    INSERT INTO presence_stale SELECT 0, NEW.member_id
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = 0 AND member_id = NEW.member_id);
END;
CREATE TRIGGER presence_companion_delete AFTER DELETE ON companions BEGIN
    DELETE FROM presence WHERE member = OLD.member_id AND companion = OLD.id;
    INSERT INTO presence_stale SELECT 0, OLD.member_id
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = 0 AND member_id = OLD.member_id);
END;

-- A member erased: their rows go at once.
CREATE TRIGGER presence_member_delete AFTER DELETE ON members BEGIN
    DELETE FROM presence WHERE member = OLD.id;
END;

-- Sessions: moved, cancelled, or changed in kind.
CREATE TRIGGER presence_session_update AFTER UPDATE OF hub_id, kind, starts_at, local_date, cancelled_at ON sessions
WHEN OLD.hub_id IS NOT NEW.hub_id OR OLD.kind IS NOT NEW.kind OR OLD.starts_at IS NOT NEW.starts_at
     OR OLD.local_date IS NOT NEW.local_date OR OLD.cancelled_at IS NOT NEW.cancelled_at BEGIN
    INSERT INTO presence_stale SELECT OLD.id, 0
        WHERE NOT EXISTS (SELECT 1 FROM presence_stale WHERE session_id = OLD.id AND member_id = 0);
END;
