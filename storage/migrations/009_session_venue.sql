-- Issue 14: a session's venue as it was announced, so a changed venue in the configuration is noticed (and the
-- people coming are told) like a changed start time. NULL: not recorded yet (sessions stored before this).
ALTER TABLE sessions ADD COLUMN venue TEXT;
