-- Every upstream source: the rest of the dossier, petitions, documents,
-- reports, the portal's official scores, unit history, per-feed cursors,
-- quarantined records and source outages.

ALTER TABLE dossiers ADD COLUMN field_code TEXT;
ALTER TABLE dossiers ADD COLUMN apologies TEXT NOT NULL DEFAULT '[]';
ALTER TABLE dossiers ADD COLUMN has_fees BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN online_payment BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN digitized BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN components_total BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN components_digitized BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN components_reused BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN e_result BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN vneid_authenticated BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN synced_to_portal BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN shared_to_citizen_store BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN used_population_data BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN satisfaction TEXT;
-- Set by a full reconciliation when the record is gone upstream; history stays.
ALTER TABLE dossiers ADD COLUMN deleted_at BIGINT;
-- The last full reconciliation that saw the record.
ALTER TABLE dossiers ADD COLUMN seen_run BIGINT;

CREATE TABLE petitions (
    code                 TEXT PRIMARY KEY,
    unit_code            TEXT NOT NULL REFERENCES units(code),
    category             TEXT NOT NULL,
    received_at          BIGINT,
    due_at               BIGINT,
    answered_at          BIGINT,
    satisfaction         TEXT,
    upstream_updated_at  BIGINT,
    content_hash         TEXT NOT NULL,
    first_seen_at        BIGINT NOT NULL,
    changed_at           BIGINT NOT NULL,
    deleted_at           BIGINT,
    seen_run             BIGINT
);
CREATE INDEX petitions_unit_received ON petitions (unit_code, received_at);

CREATE TABLE documents (
    id                    TEXT PRIMARY KEY,
    unit_code             TEXT NOT NULL REFERENCES units(code),
    direction             TEXT NOT NULL,
    registered_at         BIGINT,
    electronic            BIGINT NOT NULL,
    axis_status           TEXT,
    signed                BIGINT NOT NULL,
    signature_verified    BIGINT,
    due_at                BIGINT,
    completed_at          BIGINT,
    filed_electronically  BIGINT NOT NULL,
    upstream_updated_at   BIGINT,
    content_hash          TEXT NOT NULL,
    first_seen_at         BIGINT NOT NULL,
    changed_at            BIGINT NOT NULL,
    deleted_at            BIGINT,
    seen_run              BIGINT
);
CREATE INDEX documents_unit_registered ON documents (unit_code, registered_at);

CREATE TABLE reports (
    id                   TEXT PRIMARY KEY,
    unit_code            TEXT NOT NULL REFERENCES units(code),
    report_type          TEXT NOT NULL,
    title                TEXT,
    period               TEXT NOT NULL,
    due_at               BIGINT NOT NULL,
    submitted_at         BIGINT,
    status               TEXT NOT NULL,
    upstream_updated_at  BIGINT,
    content_hash         TEXT NOT NULL,
    first_seen_at        BIGINT NOT NULL,
    changed_at           BIGINT NOT NULL,
    deleted_at           BIGINT,
    seen_run             BIGINT
);
CREATE INDEX reports_unit_due ON reports (unit_code, due_at);

-- Keyed by unit and period, as the portal reports them.
CREATE TABLE portal_scores (
    id                   TEXT PRIMARY KEY,
    unit_code            TEXT NOT NULL REFERENCES units(code),
    period               TEXT NOT NULL,
    total                DOUBLE PRECISION,
    groups               TEXT NOT NULL,
    upstream_updated_at  BIGINT,
    content_hash         TEXT NOT NULL,
    first_seen_at        BIGINT NOT NULL,
    changed_at           BIGINT NOT NULL,
    deleted_at           BIGINT,
    seen_run             BIGINT
);

-- Every version of a unit's directory entry: renames and retirements keep history.
CREATE TABLE unit_history (
    id           BIGSERIAL PRIMARY KEY,
    unit_code    TEXT NOT NULL REFERENCES units(code),
    at           BIGINT NOT NULL,
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
    last_success_at   BIGINT,
    last_full_sync_at BIGINT,
    records           BIGINT NOT NULL DEFAULT 0
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
    first_seen_at  BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL,
    times_seen     BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (feed, record_key)
);

-- Health transitions of a source: one row per outage start and end.
CREATE TABLE source_events (
    id      BIGSERIAL PRIMARY KEY,
    source  TEXT NOT NULL,
    at      BIGINT NOT NULL,
    health  TEXT NOT NULL,
    detail  TEXT
);
CREATE INDEX source_events_source ON source_events (source, id);
