-- The people's side of findings: acknowledgements, silences (of one finding
-- or by matcher), evaluation streaks for hysteresis, and the record of
-- unannounced-inspection proposals.

ALTER TABLE findings ADD COLUMN acknowledged_by TEXT;
ALTER TABLE findings ADD COLUMN acknowledged_at BIGINT;
ALTER TABLE findings ADD COLUMN silenced_until BIGINT;
ALTER TABLE findings ADD COLUMN silenced_by TEXT;
ALTER TABLE findings ADD COLUMN silence_reason TEXT;
-- The state a silence returns the finding to when it runs out.
ALTER TABLE findings ADD COLUMN state_before_silence TEXT;

-- Silences that match findings by rule, unit and/or unit kind (all given
-- matchers must match); they run out by themselves at `until`.
CREATE TABLE silences (
    id          BIGSERIAL PRIMARY KEY,
    rule_id     TEXT,
    unit_code   TEXT,
    unit_kind   TEXT,
    until       BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    ended_at    BIGINT
);

-- Consecutive failing and passing evaluations per rule and unit, for
-- hysteresis. Only pairs that are failing or have a finding are kept.
CREATE TABLE rule_streaks (
    rule_id     TEXT NOT NULL,
    unit_code   TEXT NOT NULL,
    fails       BIGINT NOT NULL,
    passes      BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (rule_id, unit_code)
);

-- Confidential: proposals for unannounced inspection, reproducible from the seed.
CREATE TABLE inspection_plans (
    id               BIGSERIAL PRIMARY KEY,
    created_at       BIGINT NOT NULL,
    requested_by     TEXT NOT NULL,
    reason           TEXT NOT NULL,
    seed             BIGINT NOT NULL,
    requested_count  BIGINT NOT NULL,
    proposal         TEXT NOT NULL,
    weights          TEXT NOT NULL
);
