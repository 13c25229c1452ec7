-- Incidents, who holds which role on them, their append-only timeline, and
-- the API tokens that automation uses.

CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    title           TEXT   NOT NULL,
    severity        TEXT   NOT NULL CHECK (severity IN ('SEV1', 'SEV2', 'SEV3', 'SEV4')),
    category        TEXT   NOT NULL,
    summary         TEXT   NOT NULL,
    status          TEXT   NOT NULL CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved')),
    phase           TEXT   NOT NULL CHECK (phase IN ('identification', 'containment', 'eradication', 'recovery', 'post_incident')),
    declared_at     BIGINT NOT NULL,
    declared_by     TEXT   NOT NULL,
    acknowledged_at BIGINT,
    contained_at    BIGINT,
    resolved_at     BIGINT,
    last_update_at  BIGINT NOT NULL,
    -- Bumped by every command; taking it first serialises commands on one incident.
    version         BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX incidents_by_status ON incidents (status, severity);

CREATE TABLE incident_components (
    incident_id   BIGINT NOT NULL REFERENCES incidents (id),
    component_key TEXT   NOT NULL,
    PRIMARY KEY (incident_id, component_key)
);

CREATE TABLE incident_roles (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    user_id     BIGINT NOT NULL REFERENCES users (id),
    role        TEXT   NOT NULL CHECK (role IN ('incident_commander', 'communications_lead', 'operations_lead', 'scribe', 'subject_matter_expert')),
    assigned_at BIGINT NOT NULL,
    PRIMARY KEY (incident_id, user_id, role)
);
-- Exactly one commander at a time, whatever the code does.
CREATE UNIQUE INDEX incident_roles_one_commander ON incident_roles (incident_id) WHERE role = 'incident_commander';

CREATE TABLE incident_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id   BIGINT NOT NULL REFERENCES incidents (id),
    at            BIGINT NOT NULL,
    -- An e-mail address, or token:NAME for an API token.
    actor         TEXT   NOT NULL,
    actor_user_id BIGINT REFERENCES users (id),
    kind          TEXT   NOT NULL,
    -- JSON: the event's fields, as app::domain::incident_lifecycle::TimelineEvent.
    payload       TEXT   NOT NULL
);
CREATE INDEX incident_events_by_incident ON incident_events (incident_id, id);

-- The timeline is append-only: the database refuses edits and deletions.
CREATE TRIGGER incident_events_no_update BEFORE UPDATE ON incident_events
BEGIN
    SELECT RAISE(ABORT, 'the incident timeline is append-only');
END;
CREATE TRIGGER incident_events_no_delete BEFORE DELETE ON incident_events
BEGIN
    SELECT RAISE(ABORT, 'the incident timeline is append-only');
END;

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT   NOT NULL UNIQUE,
    role         TEXT   NOT NULL CHECK (role IN ('admin', 'responder', 'viewer')),
    -- SHA-256 of the token, hex: the token itself is shown once and never stored.
    token_hash   TEXT   NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    created_by   TEXT   NOT NULL,
    revoked_at   BIGINT,
    last_used_at BIGINT
);
