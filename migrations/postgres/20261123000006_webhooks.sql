-- Outgoing notifications: webhooks per audience, and every delivery attempt.
CREATE TABLE webhooks (
    id         BIGSERIAL PRIMARY KEY,
    audience   TEXT   NOT NULL CHECK (audience IN ('public', 'internal', 'executive')),
    format     TEXT   NOT NULL CHECK (format IN ('slack', 'generic')),
    url        TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT   NOT NULL
);

CREATE TABLE webhook_deliveries (
    id          BIGSERIAL PRIMARY KEY,
    webhook_id  BIGINT NOT NULL,
    -- The timeline event of the update delivered.
    event_id    BIGINT NOT NULL,
    incident_id BIGINT NOT NULL,
    attempt     BIGINT NOT NULL,
    outcome     TEXT   NOT NULL CHECK (outcome IN ('delivered', 'retrying', 'gave_up')),
    status_code BIGINT,
    error       TEXT,
    at          BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_id, id);
