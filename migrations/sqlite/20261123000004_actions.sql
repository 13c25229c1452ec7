-- Containment actions on incidents: what was planned, its preview, who
-- confirmed it with which idempotency key, its result and its undo.

CREATE TABLE incident_actions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id      BIGINT NOT NULL REFERENCES incidents (id),
    -- JSON: app::domain::action::ActionSpec
    spec             TEXT   NOT NULL,
    name             TEXT   NOT NULL,
    status           TEXT   NOT NULL CHECK (status IN ('planned', 'previewed', 'executing', 'succeeded', 'failed', 'undone')),
    planned_by       TEXT   NOT NULL,
    planned_at       BIGINT NOT NULL,
    -- JSON: the blast radius the dry run showed
    preview          TEXT,
    previewed_at     BIGINT,
    confirmed_by     TEXT,
    confirmed_at     BIGINT,
    -- One confirmation per key: a retried or doubled request finds it and runs nothing.
    confirm_key      TEXT   UNIQUE,
    result           TEXT,
    -- JSON: the ActionSpec that undoes it, recorded when it ran
    undo             TEXT,
    failure          TEXT,
    finished_at      BIGINT,
    undo_key         TEXT   UNIQUE,
    undone_by        TEXT,
    undone_at        BIGINT,
    -- JSON: per-pod progress of a drain
    progress         TEXT,
    version          BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX incident_actions_by_incident ON incident_actions (incident_id, id);
