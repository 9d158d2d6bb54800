-- Each person's first visit to each hub, kept with the attendance it comes from (issue 16).
--
-- "New" and "returning" (at a session, in a week, in a term, in a year) only ask when someone first came: new at
-- a session is exactly someone whose first visit it was; returning in a window, someone whose first visit was
-- before it. Until now every figure looked that up in the person's whole history, person by person (the term
-- page: 7,483 look-ups, as costly as everything else on it). Now it is one row per person and hub, kept by
-- triggers on `presence` (itself kept up to date by storage.presence): a row added there can only make the first
-- visit earlier; a row deleted that was the first visit makes it the person's next one, or removes the person
-- when nothing is left (erasure, withdrawal, an answer changed). `presence` only changes by DELETE and INSERT
-- (storage.presence), never by UPDATE.
--
-- The first visit is the earliest by (starts_at, session_id), so two sessions starting together have one first.
-- Like presence it is derived data, and personal: it goes with the person (storage/person_map.py).

CREATE TABLE first_visits (
    hub_id      TEXT NOT NULL,
    person      INTEGER NOT NULL,  -- as presence.person: a member's id, or minus a companion's id
    member      INTEGER,           -- as presence.member (for a companion: the member who brought them)
    companion   INTEGER,           -- as presence.companion
    starts_at   TEXT NOT NULL,
    session_id  INTEGER NOT NULL,
    PRIMARY KEY (hub_id, person)
);
-- New at each session of a window: a range of this index.
CREATE INDEX first_visits_by_start ON first_visits (hub_id, starts_at, session_id);
CREATE INDEX first_visits_member ON first_visits (member);

INSERT INTO first_visits (hub_id, person, member, companion, starts_at, session_id)
SELECT hub_id, person, member, companion, starts_at, session_id FROM (
    SELECT hub_id, person, member, companion, starts_at, session_id,
           ROW_NUMBER() OVER (PARTITION BY hub_id, person ORDER BY starts_at, session_id) AS nth
    FROM presence WHERE person IS NOT NULL
) WHERE nth = 1;

-- A visit added: the first one of someone never seen at the hub, or earlier than their first so far.
-- (No conflict clause: an outer statement's would override it inside a trigger.)
CREATE TRIGGER first_visit_added AFTER INSERT ON presence WHEN NEW.person IS NOT NULL BEGIN
    INSERT INTO first_visits (hub_id, person, member, companion, starts_at, session_id)
        SELECT NEW.hub_id, NEW.person, NEW.member, NEW.companion, NEW.starts_at, NEW.session_id
        WHERE NOT EXISTS (SELECT 1 FROM first_visits WHERE hub_id = NEW.hub_id AND person = NEW.person);
    UPDATE first_visits SET starts_at = NEW.starts_at, session_id = NEW.session_id, member = NEW.member,
                            companion = NEW.companion
        WHERE hub_id = NEW.hub_id AND person = NEW.person
        AND (NEW.starts_at < starts_at OR (NEW.starts_at = starts_at AND NEW.session_id < session_id));
END;

-- A visit taken away: if it was the first, the next one is (the person's few rows, through presence_by_person);
-- if none is left, the person has no first visit here.
CREATE TRIGGER first_visit_removed AFTER DELETE ON presence WHEN OLD.person IS NOT NULL BEGIN
    DELETE FROM first_visits WHERE hub_id = OLD.hub_id AND person = OLD.person
        AND NOT EXISTS (SELECT 1 FROM presence p WHERE p.hub_id = OLD.hub_id AND p.person = OLD.person);
    UPDATE first_visits SET (starts_at, session_id, member, companion) = (
            SELECT p.starts_at, p.session_id, p.member, p.companion FROM presence p
            WHERE p.hub_id = OLD.hub_id AND p.person = OLD.person ORDER BY p.starts_at, p.session_id LIMIT 1)
        WHERE hub_id = OLD.hub_id AND person = OLD.person AND session_id = OLD.session_id;
END;
