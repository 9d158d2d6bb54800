-- Who answers a carer's wellbeing questions: asked once, then every check-in and term measure
-- records it in answered_as. Absent = not asked yet (people who are not carers always answer as 'self').
CREATE TABLE answer_modes (
    member_id    INTEGER PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    answered_as  TEXT NOT NULL CHECK (answered_as IN ('self', 'with_support', 'on_behalf')),
    set_at       TEXT NOT NULL
);

-- "Has this person already asked to talk about this session, and is it still open?"
CREATE INDEX alerts_member_session ON alerts (member_id, session_id, acknowledged_at);
