-- Alerts from monitors and from Wheelhouse's own detections: one row per
-- alert key (repeats update it), the Alertmanager groups they arrived in, and
-- the admin-editable routing policy. API tokens gain the `alerts` role.

CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    source          TEXT   NOT NULL CHECK (source IN ('alertmanager', 'generic', 'wheelhouse')),
    -- Alertmanager's fingerprint or the generic dedup key: unique per source.
    fingerprint     TEXT   NOT NULL,
    name            TEXT   NOT NULL,
    status          TEXT   NOT NULL CHECK (status IN ('firing', 'resolved')),
    severity        TEXT   NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    -- JSON objects, kept as received.
    labels          TEXT   NOT NULL,
    annotations     TEXT   NOT NULL,
    source_url      TEXT,
    group_key       TEXT,
    component_key   TEXT,
    starts_at       BIGINT,
    first_seen      BIGINT NOT NULL,
    last_seen       BIGINT NOT NULL,
    last_change     BIGINT NOT NULL,
    resolved_at     BIGINT,
    flap_count      BIGINT NOT NULL DEFAULT 0,
    route           TEXT   NOT NULL CHECK (route IN ('declared', 'attached', 'inbox', 'kept')),
    incident_id     BIGINT REFERENCES incidents (id),
    acknowledged_at BIGINT,
    acknowledged_by TEXT,
    silenced_until  BIGINT,
    silenced_by     TEXT,
    silence_reason  TEXT,
    UNIQUE (source, fingerprint)
);
CREATE INDEX alerts_by_last_seen ON alerts (last_seen);
CREATE INDEX alerts_by_first_seen ON alerts (first_seen, component_key);
CREATE INDEX alerts_by_incident ON alerts (incident_id);

CREATE TABLE alert_groups (
    group_key        TEXT   PRIMARY KEY,
    receiver         TEXT   NOT NULL,
    -- JSON: the group's labels.
    labels           TEXT   NOT NULL,
    external_url     TEXT,
    -- Alerts Alertmanager left out of the last delivery (max_alerts).
    truncated_alerts BIGINT NOT NULL,
    last_seen        BIGINT NOT NULL
);

-- The routing policy, first matching rule wins. While `alert_policy` has no
-- row, the shipped defaults apply (app::domain::alert::default_rules).
CREATE TABLE alert_rules (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    position         BIGINT NOT NULL,
    severity         TEXT CHECK (severity IN ('critical', 'warning', 'info')),
    alertname        TEXT,
    public_component BIGINT CHECK (public_component IN (0, 1)),
    outcome          TEXT   NOT NULL CHECK (outcome IN ('declare', 'inbox', 'keep')),
    declare_severity TEXT CHECK (declare_severity IN ('SEV1', 'SEV2', 'SEV3', 'SEV4'))
);

CREATE TABLE alert_policy (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    customised_at BIGINT NOT NULL,
    customised_by TEXT   NOT NULL
);

-- SQLite cannot change a CHECK in place: the token table is rebuilt with the new role.
CREATE TABLE api_tokens_with_alerts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT   NOT NULL UNIQUE,
    role         TEXT   NOT NULL CHECK (role IN ('admin', 'responder', 'viewer', 'alerts')),
    token_hash   TEXT   NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    created_by   TEXT   NOT NULL,
    revoked_at   BIGINT,
    last_used_at BIGINT
);
INSERT INTO api_tokens_with_alerts (id, name, role, token_hash, created_at, created_by, revoked_at, last_used_at)
    SELECT id, name, role, token_hash, created_at, created_by, revoked_at, last_used_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_with_alerts RENAME TO api_tokens;
