-- Every upstream source: the rest of the dossier, petitions, documents,
-- reports, the portal's official scores, unit history, per-feed cursors,
-- quarantined records and source outages.

ALTER TABLE dossiers ADD COLUMN field_code TEXT;
ALTER TABLE dossiers ADD COLUMN apologies TEXT NOT NULL DEFAULT '[]';
ALTER TABLE dossiers ADD COLUMN has_fees INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN online_payment INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN digitized INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN components_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN components_digitized INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN components_reused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN e_result INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN vneid_authenticated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN synced_to_portal INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN shared_to_citizen_store INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN used_population_data INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN satisfaction TEXT;
-- Set by a full reconciliation when the record is gone upstream; history stays.
ALTER TABLE dossiers ADD COLUMN deleted_at INTEGER;
-- The last full reconciliation that saw the record.
ALTER TABLE dossiers ADD COLUMN seen_run INTEGER;

CREATE TABLE petitions (
    code                 TEXT PRIMARY KEY,
    unit_code            TEXT NOT NULL REFERENCES units(code),
    category             TEXT NOT NULL,
    received_at          INTEGER,
    due_at               INTEGER,
    answered_at          INTEGER,
    satisfaction         TEXT,
    upstream_updated_at  INTEGER,
    content_hash         TEXT NOT NULL,
    first_seen_at        INTEGER NOT NULL,
    changed_at           INTEGER NOT NULL,
    deleted_at           INTEGER,
    seen_run             INTEGER
);
CREATE INDEX petitions_unit_received ON petitions (unit_code, received_at);

CREATE TABLE documents (
    id                    TEXT PRIMARY KEY,
    unit_code             TEXT NOT NULL REFERENCES units(code),
    direction             TEXT NOT NULL,
    registered_at         INTEGER,
    electronic            INTEGER NOT NULL,
    axis_status           TEXT,
    signed                INTEGER NOT NULL,
    signature_verified    INTEGER,
    due_at                INTEGER,
    completed_at          INTEGER,
    filed_electronically  INTEGER NOT NULL,
    upstream_updated_at   INTEGER,
    content_hash          TEXT NOT NULL,
    first_seen_at         INTEGER NOT NULL,
    changed_at            INTEGER NOT NULL,
    deleted_at            INTEGER,
    seen_run              INTEGER
);
CREATE INDEX documents_unit_registered ON documents (unit_code, registered_at);

CREATE TABLE reports (
    id                   TEXT PRIMARY KEY,
    unit_code            TEXT NOT NULL REFERENCES units(code),
    report_type          TEXT NOT NULL,
    title                TEXT,
    period               TEXT NOT NULL,
    due_at               INTEGER NOT NULL,
    submitted_at         INTEGER,
    status               TEXT NOT NULL,
    upstream_updated_at  INTEGER,
    content_hash         TEXT NOT NULL,
    first_seen_at        INTEGER NOT NULL,
    changed_at           INTEGER NOT NULL,
    deleted_at           INTEGER,
    seen_run             INTEGER
);
CREATE INDEX reports_unit_due ON reports (unit_code, due_at);

-- Keyed by unit and period, as the portal reports them.
CREATE TABLE portal_scores (
    id                   TEXT PRIMARY KEY,
    unit_code            TEXT NOT NULL REFERENCES units(code),
    period               TEXT NOT NULL,
    total                REAL,
    groups               TEXT NOT NULL,
    upstream_updated_at  INTEGER,
    content_hash         TEXT NOT NULL,
    first_seen_at        INTEGER NOT NULL,
    changed_at           INTEGER NOT NULL,
    deleted_at           INTEGER,
    seen_run             INTEGER
);

-- Every version of a unit's directory entry: renames and retirements keep history.
CREATE TABLE unit_history (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_code    TEXT NOT NULL REFERENCES units(code),
    at           INTEGER NOT NULL,
    change       TEXT NOT NULL,
    name         TEXT NOT NULL,
    kind         TEXT,
    parent_code  TEXT,
    head_email   TEXT
);
CREATE INDEX unit_history_unit ON unit_history (unit_code, id);

-- Where each feed's incremental polling resumes.
CREATE TABLE feed_state (
    feed              TEXT PRIMARY KEY,
    cursor            TEXT,
    last_success_at   INTEGER,
    last_full_sync_at INTEGER,
    records           INTEGER NOT NULL DEFAULT 0
);

-- Records a feed sent that could not be mapped; cleared when the record
-- arrives in a form that maps.
CREATE TABLE quarantine (
    feed           TEXT NOT NULL,
    record_key     TEXT NOT NULL,
    record_id      TEXT,
    field          TEXT NOT NULL,
    problem        TEXT NOT NULL,
    raw            TEXT NOT NULL,
    first_seen_at  INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL,
    times_seen     INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (feed, record_key)
);

-- Health transitions of a source: one row per outage start and end.
CREATE TABLE source_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    source  TEXT NOT NULL,
    at      INTEGER NOT NULL,
    health  TEXT NOT NULL,
    detail  TEXT
);
CREATE INDEX source_events_source ON source_events (source, id);
