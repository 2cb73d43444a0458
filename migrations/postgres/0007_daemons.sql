-- Running daemons (issue 13). Each daemon run keeps a row here, refreshed
-- with the metrics, and removes it when it stops. One-off commands beside a
-- running daemon read it: `check` then shows the daemon's findings instead
-- of polling and recording source health of its own.

CREATE TABLE daemon_runs (
    -- Random per run.
    run_id        TEXT PRIMARY KEY,
    host          TEXT NOT NULL,
    pid           BIGINT NOT NULL,
    started_at    BIGINT NOT NULL,
    heartbeat_at  BIGINT NOT NULL
);
