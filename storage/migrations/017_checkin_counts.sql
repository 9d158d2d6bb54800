-- Check-in counts kept as answers arrive (issue 16): for each session, how many were sent a check-in message and
-- what they answered, as storage.reports' check-in totals count them, so that the weekly summary, the dashboard's
-- term page, the funder report and its CSV read one row per session instead of counting every answer each time.
--
-- `checkin_counts` is derived data and holds counts only (no person): triggers on `checkins` and `deliveries`
-- keep it exact in the same statement that changes an answer or a message, whoever makes the change (a tap,
-- erasure, withdrawing consent, retention, a session deleted and its rows with it). A row is made the first time
-- a session has something to count; a session with no row counts nothing. Its definition, kept in
-- tests/test_checkin_counts.py as the oracle:
--   asked       deliveries of kind 'checkin' in state 'sent' for the session
--   responses   check-ins with a feeling, "could not come" or a connected answer
--   happier, same, less_happy, absent, connected_*: check-ins with that answer
--   on_behalf   check-ins answered on someone's behalf that have a feeling
-- Each is a 0/1 expression written with IS, so a NULL answer counts 0 (as SUM(c.feeling = 'happier') does).
--
-- A missing row is made with INSERT ... WHERE NOT EXISTS, never INSERT OR IGNORE: inside a trigger the outer
-- statement's conflict clause wins (an outer INSERT OR REPLACE would turn it into REPLACE and zero the row).
-- A delete only subtracts (UPDATE): when a session is deleted its row goes by its own cascade, and a trigger
-- must not make a row again for a session that is going.

CREATE TABLE checkin_counts (
    session_id        INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    asked             INTEGER NOT NULL DEFAULT 0,
    responses         INTEGER NOT NULL DEFAULT 0,
    happier           INTEGER NOT NULL DEFAULT 0,
    same              INTEGER NOT NULL DEFAULT 0,
    less_happy        INTEGER NOT NULL DEFAULT 0,
    absent            INTEGER NOT NULL DEFAULT 0,
    connected_yes     INTEGER NOT NULL DEFAULT 0,
    connected_little  INTEGER NOT NULL DEFAULT 0,
    connected_not     INTEGER NOT NULL DEFAULT 0,
    on_behalf         INTEGER NOT NULL DEFAULT 0
);

-- Everything there is, counted once.
INSERT INTO checkin_counts (session_id, asked, responses, happier, same, less_happy, absent, connected_yes,
                            connected_little, connected_not, on_behalf)
SELECT session_id, SUM(asked), SUM(responses), SUM(happier), SUM(same), SUM(less_happy), SUM(absent),
       SUM(connected_yes), SUM(connected_little), SUM(connected_not), SUM(on_behalf)
FROM (
    SELECT session_id, 1 AS asked, 0 AS responses, 0 AS happier, 0 AS same, 0 AS less_happy, 0 AS absent,
           0 AS connected_yes, 0 AS connected_little, 0 AS connected_not, 0 AS on_behalf
    FROM deliveries WHERE kind = 'checkin' AND state = 'sent' AND session_id IS NOT NULL
    UNION ALL
    SELECT session_id, 0, (feeling IS NOT NULL OR absent IS 1 OR connected IS NOT NULL),
           (feeling IS 'happier'), (feeling IS 'same'), (feeling IS 'less_happy'), (absent IS 1),
           (connected IS 'yes'), (connected IS 'a_little'), (connected IS 'not_really'),
           (answered_as IS 'on_behalf' AND feeling IS NOT NULL)
    FROM checkins
)
WHERE session_id IN (SELECT id FROM sessions)
GROUP BY session_id;

-- Check-ins: a new answer adds, a changed one takes off what it counted and adds what it counts now (also when
-- it moved to another session), a deleted one takes off. Detaching an answer from its member (erasure,
-- retention) changes nothing counted here, so it does not fire.
CREATE TRIGGER checkin_counts_checkin_insert AFTER INSERT ON checkins BEGIN
    INSERT INTO checkin_counts (session_id) SELECT NEW.session_id
        WHERE NOT EXISTS (SELECT 1 FROM checkin_counts WHERE session_id = NEW.session_id);
    UPDATE checkin_counts SET
        responses = responses + (NEW.feeling IS NOT NULL OR NEW.absent IS 1 OR NEW.connected IS NOT NULL),
        happier = happier + (NEW.feeling IS 'happier'),
        same = same + (NEW.feeling IS 'same'),
        less_happy = less_happy + (NEW.feeling IS 'less_happy'),
        absent = absent + (NEW.absent IS 1),
        connected_yes = connected_yes + (NEW.connected IS 'yes'),
        connected_little = connected_little + (NEW.connected IS 'a_little'),
        connected_not = connected_not + (NEW.connected IS 'not_really'),
        on_behalf = on_behalf + (NEW.answered_as IS 'on_behalf' AND NEW.feeling IS NOT NULL)
    WHERE session_id = NEW.session_id;
END;
CREATE TRIGGER checkin_counts_checkin_update AFTER UPDATE OF session_id, feeling, connected, absent, answered_as
ON checkins
WHEN OLD.session_id IS NOT NEW.session_id OR OLD.feeling IS NOT NEW.feeling OR OLD.connected IS NOT NEW.connected
     OR OLD.absent IS NOT NEW.absent OR OLD.answered_as IS NOT NEW.answered_as BEGIN
    UPDATE checkin_counts SET
        responses = responses - (OLD.feeling IS NOT NULL OR OLD.absent IS 1 OR OLD.connected IS NOT NULL),
        happier = happier - (OLD.feeling IS 'happier'),
        same = same - (OLD.feeling IS 'same'),
        less_happy = less_happy - (OLD.feeling IS 'less_happy'),
        absent = absent - (OLD.absent IS 1),
        connected_yes = connected_yes - (OLD.connected IS 'yes'),
        connected_little = connected_little - (OLD.connected IS 'a_little'),
        connected_not = connected_not - (OLD.connected IS 'not_really'),
        on_behalf = on_behalf - (OLD.answered_as IS 'on_behalf' AND OLD.feeling IS NOT NULL)
    WHERE session_id = OLD.session_id;
    INSERT INTO checkin_counts (session_id) SELECT NEW.session_id
        WHERE NOT EXISTS (SELECT 1 FROM checkin_counts WHERE session_id = NEW.session_id);
    UPDATE checkin_counts SET
        responses = responses + (NEW.feeling IS NOT NULL OR NEW.absent IS 1 OR NEW.connected IS NOT NULL),
        happier = happier + (NEW.feeling IS 'happier'),
        same = same + (NEW.feeling IS 'same'),
        less_happy = less_happy + (NEW.feeling IS 'less_happy'),
        absent = absent + (NEW.absent IS 1),
        connected_yes = connected_yes + (NEW.connected IS 'yes'),
        connected_little = connected_little + (NEW.connected IS 'a_little'),
        connected_not = connected_not + (NEW.connected IS 'not_really'),
        on_behalf = on_behalf + (NEW.answered_as IS 'on_behalf' AND NEW.feeling IS NOT NULL)
    WHERE session_id = NEW.session_id;
END;
CREATE TRIGGER checkin_counts_checkin_delete AFTER DELETE ON checkins BEGIN
    UPDATE checkin_counts SET
        responses = responses - (OLD.feeling IS NOT NULL OR OLD.absent IS 1 OR OLD.connected IS NOT NULL),
        happier = happier - (OLD.feeling IS 'happier'),
        same = same - (OLD.feeling IS 'same'),
        less_happy = less_happy - (OLD.feeling IS 'less_happy'),
        absent = absent - (OLD.absent IS 1),
        connected_yes = connected_yes - (OLD.connected IS 'yes'),
        connected_little = connected_little - (OLD.connected IS 'a_little'),
        connected_not = connected_not - (OLD.connected IS 'not_really'),
        on_behalf = on_behalf - (OLD.answered_as IS 'on_behalf' AND OLD.feeling IS NOT NULL)
    WHERE session_id = OLD.session_id;
END;

-- Check-in messages: one counts as asked while it is a 'checkin' row in state 'sent' with a session. Sending it
-- adds one; a row that stops counting (another state, kind or session; retention or erasure deleting it)
-- takes one off. Every other message (reminders, RSVPs, and check-ins still pending or sending) passes the
-- WHEN and costs nothing more.
CREATE TRIGGER checkin_counts_delivery_insert AFTER INSERT ON deliveries
WHEN NEW.kind IS 'checkin' AND NEW.state IS 'sent' AND NEW.session_id IS NOT NULL BEGIN
    INSERT INTO checkin_counts (session_id) SELECT NEW.session_id
        WHERE NOT EXISTS (SELECT 1 FROM checkin_counts WHERE session_id = NEW.session_id);
    UPDATE checkin_counts SET asked = asked + 1 WHERE session_id = NEW.session_id;
END;
CREATE TRIGGER checkin_counts_delivery_update AFTER UPDATE OF kind, state, session_id ON deliveries
WHEN (OLD.kind IS 'checkin' AND OLD.state IS 'sent' AND OLD.session_id IS NOT NULL)
     OR (NEW.kind IS 'checkin' AND NEW.state IS 'sent' AND NEW.session_id IS NOT NULL) BEGIN
    UPDATE checkin_counts SET asked = asked - 1
    WHERE session_id = OLD.session_id AND OLD.kind IS 'checkin' AND OLD.state IS 'sent';
    INSERT INTO checkin_counts (session_id) SELECT NEW.session_id
        WHERE NEW.kind IS 'checkin' AND NEW.state IS 'sent' AND NEW.session_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM checkin_counts WHERE session_id = NEW.session_id);
    UPDATE checkin_counts SET asked = asked + 1
    WHERE session_id = NEW.session_id AND NEW.kind IS 'checkin' AND NEW.state IS 'sent';
END;
CREATE TRIGGER checkin_counts_delivery_delete AFTER DELETE ON deliveries
WHEN OLD.kind IS 'checkin' AND OLD.state IS 'sent' AND OLD.session_id IS NOT NULL BEGIN
    UPDATE checkin_counts SET asked = asked - 1 WHERE session_id = OLD.session_id;
END;
