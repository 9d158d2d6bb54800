-- Each session's counts kept as answers arrive (issue 16): the answers (Yes, Maybe, No), the no-shows, the
-- companions Yes answers bring, and who came (people, walk-ins, people we can recognise), as
-- storage.presence.SESSION_COUNTS defines them. The summary, the dashboard and the funder report read a
-- window's sessions from here instead of counting every RSVP, check-in and attendance row of the window again.
--
-- Like `presence` it is derived data, worked out again, never edited: triggers on everything the counts depend
-- on record the session in `session_counts_stale`, and storage.presence works those sessions out again (after
-- attendance itself) before anything is read. It holds numbers only: nobody can be found in it.

CREATE TABLE session_counts (
    session_id  INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    yes         INTEGER NOT NULL,  -- Yes answers with a place (not on the waiting list)
    maybe       INTEGER NOT NULL,
    no          INTEGER NOT NULL,
    no_shows    INTEGER NOT NULL,  -- a Yes with a place from someone who did not come
    brought     INTEGER NOT NULL,  -- companions those Yes answers bring
    attended    INTEGER NOT NULL,  -- who came: everyone, walk-ins and anonymised answers included
    walk_ins    INTEGER NOT NULL,
    known       INTEGER NOT NULL   -- who came that we can recognise (a member or a companion)
);

CREATE TABLE session_counts_stale (
    session_id  INTEGER PRIMARY KEY
);

-- Everything there is, worked out on first use.
INSERT INTO session_counts_stale (session_id) SELECT id FROM sessions;

-- (No conflict clauses: an outer statement's would override them inside a trigger.)
CREATE TRIGGER session_counts_rsvp_insert AFTER INSERT ON rsvps BEGIN
    INSERT INTO session_counts_stale SELECT NEW.session_id
        WHERE NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = NEW.session_id);
END;
CREATE TRIGGER session_counts_rsvp_update AFTER UPDATE ON rsvps BEGIN
    INSERT INTO session_counts_stale SELECT OLD.session_id
        WHERE NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = OLD.session_id);
    INSERT INTO session_counts_stale SELECT NEW.session_id
        WHERE NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = NEW.session_id);
END;
CREATE TRIGGER session_counts_rsvp_delete AFTER DELETE ON rsvps BEGIN
    INSERT INTO session_counts_stale SELECT OLD.session_id
        WHERE NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = OLD.session_id);
END;
CREATE TRIGGER session_counts_rsvp_companion_insert AFTER INSERT ON rsvp_companions BEGIN
    INSERT INTO session_counts_stale SELECT NEW.session_id
        WHERE NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = NEW.session_id);
END;
CREATE TRIGGER session_counts_rsvp_companion_delete AFTER DELETE ON rsvp_companions BEGIN
    INSERT INTO session_counts_stale SELECT OLD.session_id
        WHERE NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = OLD.session_id);
END;

-- Check-ins: a Yes who said they could not come is a no-shows.
CREATE TRIGGER session_counts_checkin_insert AFTER INSERT ON checkins BEGIN
    INSERT INTO session_counts_stale SELECT NEW.session_id
        WHERE NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = NEW.session_id);
END;
CREATE TRIGGER session_counts_checkin_update AFTER UPDATE OF session_id, member_id, absent ON checkins BEGIN
    INSERT INTO session_counts_stale SELECT OLD.session_id
        WHERE NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = OLD.session_id);
    INSERT INTO session_counts_stale SELECT NEW.session_id
        WHERE NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = NEW.session_id);
END;
CREATE TRIGGER session_counts_checkin_delete AFTER DELETE ON checkins BEGIN
    INSERT INTO session_counts_stale SELECT OLD.session_id
        WHERE NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = OLD.session_id);
END;

-- A saved register decides the no-shows (the Yes answers not ticked).
CREATE TRIGGER session_counts_register_insert AFTER INSERT ON registers BEGIN
    INSERT INTO session_counts_stale SELECT NEW.session_id
        WHERE NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = NEW.session_id);
END;
CREATE TRIGGER session_counts_register_update AFTER UPDATE ON registers BEGIN
    INSERT INTO session_counts_stale SELECT OLD.session_id
        WHERE NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = OLD.session_id);
    INSERT INTO session_counts_stale SELECT NEW.session_id
        WHERE NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = NEW.session_id);
END;
CREATE TRIGGER session_counts_register_delete AFTER DELETE ON registers BEGIN
    INSERT INTO session_counts_stale SELECT OLD.session_id
        WHERE NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = OLD.session_id);
END;

-- Who came (attendance kept in `presence`: its rows are only ever deleted and inserted).
CREATE TRIGGER session_counts_presence_insert AFTER INSERT ON presence BEGIN
    INSERT INTO session_counts_stale SELECT NEW.session_id
        WHERE NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = NEW.session_id);
END;
CREATE TRIGGER session_counts_presence_delete AFTER DELETE ON presence BEGIN
    INSERT INTO session_counts_stale SELECT OLD.session_id
        WHERE NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = OLD.session_id);
END;

-- Companions brought depend on when a companion was added or removed: every session their member answered.
CREATE TRIGGER session_counts_companion_insert AFTER INSERT ON companions BEGIN
    INSERT INTO session_counts_stale SELECT DISTINCT r.session_id FROM rsvps r
        WHERE r.member_id = NEW.member_id
        AND NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = r.session_id);
END;
CREATE TRIGGER session_counts_companion_update AFTER UPDATE OF member_id, created_at, removed_at ON companions BEGIN
    INSERT INTO session_counts_stale SELECT DISTINCT r.session_id FROM rsvps r
        WHERE r.member_id IN (OLD.member_id, NEW.member_id)
        AND NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = r.session_id);
END;
CREATE TRIGGER session_counts_companion_delete AFTER DELETE ON companions BEGIN
    INSERT INTO session_counts_stale SELECT DISTINCT r.session_id FROM rsvps r
        WHERE r.member_id = OLD.member_id
        AND NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = r.session_id);
END;

-- Sessions: moved (which companions existed at its start), cancelled or brought back, added.
CREATE TRIGGER session_counts_session_insert AFTER INSERT ON sessions BEGIN
    INSERT INTO session_counts_stale SELECT NEW.id
        WHERE NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = NEW.id);
END;
CREATE TRIGGER session_counts_session_update AFTER UPDATE OF hub_id, starts_at, cancelled_at ON sessions
WHEN OLD.hub_id IS NOT NEW.hub_id OR OLD.starts_at IS NOT NEW.starts_at OR OLD.cancelled_at IS NOT NEW.cancelled_at
BEGIN
    INSERT INTO session_counts_stale SELECT NEW.id
        WHERE NOT EXISTS (SELECT 1 FROM session_counts_stale WHERE session_id = NEW.id);
END;
