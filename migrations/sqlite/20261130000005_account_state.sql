-- Accounts can be disabled; and every session signed in before
-- `sessions_after` (set when an account is disabled, its role changes or its
-- password is reset) ends at once.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
ALTER TABLE users ADD COLUMN sessions_after BIGINT NOT NULL DEFAULT 0;
