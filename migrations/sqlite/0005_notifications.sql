-- Alert notifications: a finding transition writes one row per recipient in
-- its own transaction; the grouping worker later turns pending rows into one
-- outbox e-mail per recipient (or cancels them), again in one transaction.

CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id  INTEGER NOT NULL REFERENCES findings(id),
    kind        TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    language    TEXT NOT NULL,
    -- The source whose data the finding's rule reads: held while it is down.
    source      TEXT NOT NULL,
    severity    TEXT NOT NULL,
    -- The evidence at the transition, as told in the e-mail.
    evidence    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    -- pending, sent or cancelled
    status      TEXT NOT NULL DEFAULT 'pending',
    decided_at  INTEGER,
    email_id    INTEGER REFERENCES outbox(id)
);
CREATE INDEX notifications_status ON notifications (status, recipient);
CREATE INDEX notifications_finding ON notifications (finding_id, recipient);

-- When each recipient last got an alert e-mail (group interval, repeats).
CREATE TABLE alert_recipients (
    recipient     TEXT PRIMARY KEY,
    last_sent_at  INTEGER NOT NULL
);

-- One row per source outage announced to the inspection team.
CREATE TABLE source_outages (
    source      TEXT NOT NULL,
    down_since  INTEGER NOT NULL,
    back_at     INTEGER,
    PRIMARY KEY (source, down_since)
);
