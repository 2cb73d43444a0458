-- Incremental recomputation: which (unit, month) pairs have new data since
-- their indicators were last computed, and the as-of time of the data each
-- stored value was computed from.

ALTER TABLE indicator_values ADD COLUMN as_of BIGINT;

CREATE TABLE indicator_dirty (
    unit_code  TEXT NOT NULL,
    period     TEXT NOT NULL,
    marked_at  BIGINT NOT NULL,
    PRIMARY KEY (unit_code, period)
);

-- Dossiers are also read by when their processing ended (Decision 766's
-- end of processing: done, else returned, else stopped or refused, else for
-- a withdrawal its last change). One column and one index rather than four:
-- every index is paid for on every insert.
ALTER TABLE dossiers ADD COLUMN ended_at BIGINT;
UPDATE dossiers SET ended_at = CASE
    WHEN status IN (3, 7, 8, 9, 10) THEN COALESCE(finished_at, returned_at, refused_at, upstream_updated_at)
    END;
CREATE INDEX dossiers_ended ON dossiers (ended_at);
-- Reads by unit scan the table; reads by period use dossiers_received.
DROP INDEX dossiers_unit_received;
DROP INDEX petitions_unit_received;
DROP INDEX documents_unit_registered;
DROP INDEX reports_unit_due;
CREATE INDEX documents_registered ON documents (registered_at);
CREATE INDEX reports_due ON reports (due_at);
CREATE INDEX petitions_received ON petitions (received_at);
