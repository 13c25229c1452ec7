-- Accounts, browser sessions and the one-time setup token.
-- Times are Unix milliseconds (BIGINT) in both dialects, so that one set of
-- queries reads them the same way.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'responder', 'viewer')),
    created_at    BIGINT  NOT NULL
);

CREATE TABLE sessions (
    id          TEXT   PRIMARY KEY,
    data        TEXT   NOT NULL,
    expiry_date BIGINT NOT NULL
);
CREATE INDEX sessions_expiry_date ON sessions (expiry_date);

-- At most one row: the hash of the token printed at first start.
CREATE TABLE setup_token (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    token_hash TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
