-- What an idle daemon no longer rewrites (issue 17).
--
-- An evaluation recomputes the current month for every unit on every
-- cycle, and used to rewrite all of its values (24 indicators × every
-- unit) even when none had changed; the metrics refresh then re-read them
-- all every 15 seconds. Now a value is rewritten only when it changed, so
-- a value's computed_at is when it last changed, and this table says, per
-- period, when every unit was last computed (computed_at: the evaluator
-- recomputes a month once more after it ended) and when any value last
-- changed (changed_at: the metrics refresh re-reads a month only when it
-- moved).
CREATE TABLE indicator_periods (
    period       TEXT PRIMARY KEY,
    computed_at  BIGINT,
    changed_at   BIGINT NOT NULL
);

INSERT INTO indicator_periods (period, computed_at, changed_at)
    SELECT period, MIN(computed_at), MAX(computed_at) FROM indicator_values GROUP BY period;

-- A period's values are read by period (the metrics, stored months summed
-- into a year): without this, every such read scanned every period.
CREATE INDEX indicator_values_period ON indicator_values (period);
