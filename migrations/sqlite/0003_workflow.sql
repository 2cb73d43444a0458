-- The people's side of findings: acknowledgements, silences (of one finding
-- or by matcher), evaluation streaks for hysteresis, and the record of
-- unannounced-inspection proposals.

ALTER TABLE findings ADD COLUMN acknowledged_by TEXT;
ALTER TABLE findings ADD COLUMN acknowledged_at INTEGER;
ALTER TABLE findings ADD COLUMN silenced_until INTEGER;
ALTER TABLE findings ADD COLUMN silenced_by TEXT;
ALTER TABLE findings ADD COLUMN silence_reason TEXT;
-- The state a silence returns the finding to when it runs out.
ALTER TABLE findings ADD COLUMN state_before_silence TEXT;

-- Silences that match findings by rule, unit and/or unit kind (all given
-- matchers must match); they run out by themselves at `until`.
CREATE TABLE silences (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id     TEXT,
    unit_code   TEXT,
    unit_kind   TEXT,
    until       INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    ended_at    INTEGER
);

-- Consecutive failing and passing evaluations per rule and unit, for
-- hysteresis. Only pairs that are failing or have a finding are kept.
CREATE TABLE rule_streaks (
    rule_id     TEXT NOT NULL,
    unit_code   TEXT NOT NULL,
    fails       INTEGER NOT NULL,
    passes      INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (rule_id, unit_code)
);

-- Confidential: proposals for unannounced inspection, reproducible from the seed.
CREATE TABLE inspection_plans (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at       INTEGER NOT NULL,
    requested_by     TEXT NOT NULL,
    reason           TEXT NOT NULL,
    seed             INTEGER NOT NULL,
    requested_count  INTEGER NOT NULL,
    proposal         TEXT NOT NULL,
    weights          TEXT NOT NULL
);
