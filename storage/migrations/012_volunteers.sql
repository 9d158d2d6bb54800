-- Issue 17: Activator volunteers. Who took which task at a session, and the pathway steps a coordinator ticked.
-- A task has one taker (the primary key), so two taps at once cannot both take it.
CREATE TABLE volunteer_tasks (
    session_id  INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    task        TEXT NOT NULL,
    member_id   INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    taken_at    TEXT NOT NULL,
    PRIMARY KEY (session_id, task)
);
CREATE INDEX volunteer_tasks_member ON volunteer_tasks (member_id, session_id);

CREATE TABLE volunteer_steps (
    member_id   INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    hub_id      TEXT NOT NULL REFERENCES hubs (id),
    step        TEXT NOT NULL,
    ticked_by   INTEGER,            -- Telegram user id of the coordinator (NULL once they are forgotten)
    ticked_at   TEXT NOT NULL,
    PRIMARY KEY (member_id, hub_id, step)
);
CREATE INDEX volunteer_steps_hub ON volunteer_steps (hub_id, step);
