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

-- Dossiers are also read by when their processing ended.
CREATE INDEX dossiers_finished ON dossiers (finished_at);
CREATE INDEX dossiers_returned ON dossiers (returned_at);
CREATE INDEX dossiers_refused ON dossiers (refused_at);
CREATE INDEX documents_registered ON documents (registered_at);
CREATE INDEX reports_due ON reports (due_at);
CREATE INDEX petitions_received ON petitions (received_at);
