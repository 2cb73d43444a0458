-- Data that cannot be true: a quarantined record says which data-quality
-- check it failed (deadline_before_reception, end_before_start,
-- date_after_poll, code_for_two_units); NULL for a record that could not
-- be mapped at all.
ALTER TABLE quarantine ADD COLUMN quality_check TEXT;
