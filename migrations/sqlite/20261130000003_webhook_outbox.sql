-- Webhook deliveries as an outbox: each delivery waits here, with a stable
-- id its receiver can drop duplicates by, until it is delivered or given up;
-- a restart (even a kill) resumes them. Each webhook signs its deliveries
-- with its own secret.

ALTER TABLE webhooks ADD COLUMN secret TEXT NOT NULL DEFAULT '';
UPDATE webhooks SET secret = 'whsec_' || lower(hex(randomblob(24))) WHERE secret = '';

CREATE TABLE webhook_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Sent as X-Wheelhouse-Delivery: the same on every attempt.
    delivery_id     TEXT   NOT NULL UNIQUE,
    webhook_id      BIGINT NOT NULL,
    event_id        BIGINT NOT NULL,
    incident_id     BIGINT NOT NULL,
    -- JSON, exactly as sent (and signed).
    body            TEXT   NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at);
