-- Digests (issue 6). Inline parts of an e-mail (a digest's chart), kept with
-- its outbox row and written in the same transaction, and the last period
-- sent of each digest kind, which catch-up after a restart starts from.

CREATE TABLE outbox_parts (
    id           BIGSERIAL PRIMARY KEY,
    outbox_id    BIGINT NOT NULL REFERENCES outbox (id),
    -- Without angle brackets; the HTML refers to it as cid:<content_id>.
    content_id   TEXT NOT NULL,
    mime         TEXT NOT NULL,
    bytes        BYTEA NOT NULL,
    UNIQUE (outbox_id, content_id)
);

CREATE TABLE digest_state (
    -- daily, weekly or monthly
    kind             TEXT PRIMARY KEY,
    -- The period's id: 2026-08-19, 2026-W34 or 2026-08.
    last_period      TEXT NOT NULL,
    -- Its start (UTC unix seconds), which orders periods of one kind.
    last_period_start BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
