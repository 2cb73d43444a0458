-- Data that cannot be true: a quarantined record says which data-quality
-- check it failed (deadline_before_reception, end_before_start,
-- date_after_poll, code_for_two_units); NULL for a record that could not
-- be mapped at all.
ALTER TABLE quarantine ADD COLUMN quality_check TEXT;

-- Facts about the monitoring itself, one row each: 'first_evaluation' is
-- when par-monitor first judged the rules, before which no period's
-- findings are known (a digest says so rather than "0 findings").
CREATE TABLE monitor_state (
    name  TEXT PRIMARY KEY,
    at    INTEGER NOT NULL
);

-- The Message-IDs an alert e-mail answers (space-separated, oldest first):
-- the first alert of each finding it tells of, to the same recipient, so
-- that reminders and resolutions thread with it in a mail reader.
ALTER TABLE outbox ADD COLUMN thread_refs TEXT;
