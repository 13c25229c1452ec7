-- Several replicas on one database. Each action records the replica and the
-- epoch of that replica's Lease that run it, so that only actions whose
-- runner is gone are marked failed. The one-time setup link records which
-- replica printed it, so that replicas starting together keep one link.
-- The sign-in throttle's attempts live here, shared by every replica.
ALTER TABLE incident_actions ADD COLUMN runner TEXT;
ALTER TABLE incident_actions ADD COLUMN runner_epoch BIGINT;
ALTER TABLE setup_token ADD COLUMN issued_by TEXT;
CREATE TABLE sign_in_attempts (
    throttle_key TEXT   NOT NULL,
    attempt      TEXT   NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX sign_in_attempts_by_key ON sign_in_attempts (throttle_key, at);
CREATE INDEX sign_in_attempts_by_attempt ON sign_in_attempts (attempt);
