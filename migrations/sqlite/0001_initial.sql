-- par-monitor schema, SQLite flavour. Times are UTC unix seconds (INTEGER);
-- JSON documents are TEXT. migrations/postgres holds the same schema.

CREATE TABLE units (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    kind         TEXT,
    parent_code  TEXT,
    head_email   TEXT,
    -- 'config', 'directory' (an upstream unit list) or 'inferred' (seen on a record only)
    origin       TEXT NOT NULL,
    retired_at   INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE source_state (
    source                TEXT PRIMARY KEY,
    cursor                TEXT,
    health                TEXT NOT NULL DEFAULT 'unknown',
    last_attempt_at       INTEGER,
    last_success_at       INTEGER,
    data_as_of            INTEGER,
    consecutive_failures  INTEGER NOT NULL DEFAULT 0,
    last_error            TEXT
);

CREATE TABLE dossiers (
    code                 TEXT PRIMARY KEY,
    unit_code            TEXT NOT NULL REFERENCES units(code),
    procedure_code       TEXT NOT NULL,
    procedure_name       TEXT,
    channel              INTEGER NOT NULL,
    status               INTEGER NOT NULL,
    submitted_at         INTEGER,
    received_at          INTEGER,
    due_at               INTEGER,
    finished_at          INTEGER,
    returned_at          INTEGER,
    refused_at           INTEGER,
    supplements          TEXT NOT NULL DEFAULT '[]',
    upstream_updated_at  INTEGER,
    -- hash of everything above: an unchanged record is not rewritten
    content_hash         TEXT NOT NULL,
    first_seen_at        INTEGER NOT NULL,
    changed_at           INTEGER NOT NULL
);
CREATE INDEX dossiers_received ON dossiers (received_at);
CREATE INDEX dossiers_unit_received ON dossiers (unit_code, received_at);

CREATE TABLE indicator_values (
    unit_code    TEXT NOT NULL REFERENCES units(code),
    indicator    TEXT NOT NULL,
    period       TEXT NOT NULL,
    numerator    INTEGER NOT NULL,
    denominator  INTEGER NOT NULL,
    sample       TEXT NOT NULL DEFAULT '[]',
    computed_at  INTEGER NOT NULL,
    PRIMARY KEY (unit_code, indicator, period)
);

CREATE TABLE findings (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id            TEXT NOT NULL,
    unit_code          TEXT NOT NULL REFERENCES units(code),
    state              TEXT NOT NULL,
    severity           TEXT NOT NULL,
    last_result        TEXT NOT NULL,
    last_detail        TEXT NOT NULL DEFAULT '{}',
    opened_at          INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    resolved_at        INTEGER,
    last_evaluated_at  INTEGER NOT NULL,
    UNIQUE (rule_id, unit_code)
);
CREATE INDEX findings_state ON findings (state, severity);

-- The audit trail is append-only: the triggers below refuse edits.
CREATE TABLE finding_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id  INTEGER NOT NULL REFERENCES findings(id),
    at          INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    note        TEXT,
    state       TEXT NOT NULL,
    severity    TEXT NOT NULL,
    evidence    TEXT NOT NULL
);
CREATE INDEX finding_events_finding ON finding_events (finding_id, id);

CREATE TRIGGER finding_events_no_update BEFORE UPDATE ON finding_events
BEGIN
    SELECT RAISE(ABORT, 'finding_events is append-only');
END;
CREATE TRIGGER finding_events_no_delete BEFORE DELETE ON finding_events
BEGIN
    SELECT RAISE(ABORT, 'finding_events is append-only');
END;

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key        TEXT NOT NULL UNIQUE,
    message_id       TEXT NOT NULL,
    kind             TEXT NOT NULL,
    recipients       TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    -- 'pending', 'sent' or 'dead'
    status           TEXT NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
