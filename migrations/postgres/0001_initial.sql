-- par-monitor schema, PostgreSQL flavour. Times are UTC unix seconds (BIGINT),
-- the same representation as on SQLite, so one set of queries serves both;
-- use to_timestamp(col) to read them. JSON documents are TEXT.

CREATE TABLE units (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    kind         TEXT,
    parent_code  TEXT,
    head_email   TEXT,
    origin       TEXT NOT NULL,
    retired_at   BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE source_state (
    source                TEXT PRIMARY KEY,
    cursor                TEXT,
    health                TEXT NOT NULL DEFAULT 'unknown',
    last_attempt_at       BIGINT,
    last_success_at       BIGINT,
    data_as_of            BIGINT,
    consecutive_failures  BIGINT NOT NULL DEFAULT 0,
    last_error            TEXT
);

CREATE TABLE dossiers (
    code                 TEXT PRIMARY KEY,
    unit_code            TEXT NOT NULL REFERENCES units(code),
    procedure_code       TEXT NOT NULL,
    procedure_name       TEXT,
    channel              BIGINT NOT NULL,
    status               BIGINT NOT NULL,
    submitted_at         BIGINT,
    received_at          BIGINT,
    due_at               BIGINT,
    finished_at          BIGINT,
    returned_at          BIGINT,
    refused_at           BIGINT,
    supplements          TEXT NOT NULL DEFAULT '[]',
    upstream_updated_at  BIGINT,
    content_hash         TEXT NOT NULL,
    first_seen_at        BIGINT NOT NULL,
    changed_at           BIGINT NOT NULL
);
CREATE INDEX dossiers_received ON dossiers (received_at);
CREATE INDEX dossiers_unit_received ON dossiers (unit_code, received_at);

CREATE TABLE indicator_values (
    unit_code    TEXT NOT NULL REFERENCES units(code),
    indicator    TEXT NOT NULL,
    period       TEXT NOT NULL,
    numerator    BIGINT NOT NULL,
    denominator  BIGINT NOT NULL,
    sample       TEXT NOT NULL DEFAULT '[]',
    computed_at  BIGINT NOT NULL,
    PRIMARY KEY (unit_code, indicator, period)
);

CREATE TABLE findings (
    id                 BIGSERIAL PRIMARY KEY,
    rule_id            TEXT NOT NULL,
    unit_code          TEXT NOT NULL REFERENCES units(code),
    state              TEXT NOT NULL,
    severity           TEXT NOT NULL,
    last_result        TEXT NOT NULL,
    last_detail        TEXT NOT NULL DEFAULT '{}',
    opened_at          BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    resolved_at        BIGINT,
    last_evaluated_at  BIGINT NOT NULL,
    UNIQUE (rule_id, unit_code)
);
CREATE INDEX findings_state ON findings (state, severity);

CREATE TABLE finding_events (
    id          BIGSERIAL PRIMARY KEY,
    finding_id  BIGINT NOT NULL REFERENCES findings(id),
    at          BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    note        TEXT,
    state       TEXT NOT NULL,
    severity    TEXT NOT NULL,
    evidence    TEXT NOT NULL
);
CREATE INDEX finding_events_finding ON finding_events (finding_id, id);

CREATE FUNCTION finding_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'finding_events is append-only';
END;
$$;
CREATE TRIGGER finding_events_no_update BEFORE UPDATE OR DELETE ON finding_events
    FOR EACH ROW EXECUTE FUNCTION finding_events_append_only();

CREATE TABLE outbox (
    id               BIGSERIAL PRIMARY KEY,
    dedup_key        TEXT NOT NULL UNIQUE,
    message_id       TEXT NOT NULL,
    kind             TEXT NOT NULL,
    recipients       TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending',
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
