-- The web console: its accounts, their sessions, and the failed logins the
-- rate limit counts. Sessions are kept by the SHA-256 of their id: the id
-- itself lives only in the browser's cookie.
CREATE TABLE console_users (
    name           TEXT PRIMARY KEY,
    role           TEXT NOT NULL CHECK (role IN ('inspection', 'leadership', 'unit_head')),
    -- A unit head's unit; NULL for the other roles.
    unit_code      TEXT,
    language       TEXT NOT NULL DEFAULT 'vi' CHECK (language IN ('vi', 'en')),
    -- An argon2 PHC string; NULL: signs in only through a trusted proxy.
    password_hash  TEXT,
    disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CHECK ((role = 'unit_head') = (unit_code IS NOT NULL))
);

CREATE TABLE console_sessions (
    id_sha256     TEXT PRIMARY KEY,
    user_name     TEXT NOT NULL REFERENCES console_users (name) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_name);

-- Failed logins, by the account name given (existing or not) and the
-- client's address; pruned once older than the window.
CREATE TABLE console_login_failures (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    account  TEXT NOT NULL,
    address  TEXT NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX console_login_failures_account ON console_login_failures (account, at);
CREATE INDEX console_login_failures_address ON console_login_failures (address, at);
