-- Scheduled maintenance: windows, the cluster actions planned for their start
-- and end, and each window's log (what happened, who did it, when).
CREATE TABLE maintenance_windows (
    id          BIGSERIAL PRIMARY KEY,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL,
    starts_at   BIGINT  NOT NULL,
    ends_at     BIGINT  NOT NULL,
    state       TEXT    NOT NULL,
    -- JSON array of component keys.
    components  TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    started_at  BIGINT,
    ended_at    BIGINT,
    version     BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX maintenance_windows_by_state ON maintenance_windows (state, starts_at);
CREATE TABLE maintenance_actions (
    id           BIGSERIAL PRIMARY KEY,
    window_id    BIGINT  NOT NULL REFERENCES maintenance_windows (id),
    phase        TEXT    NOT NULL,
    -- The ActionSpec as JSON, and its description in words.
    spec         TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    -- The dry run's result when planned (JSON: changes, pods).
    preview      TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    planned_by   TEXT    NOT NULL,
    planned_at   BIGINT  NOT NULL,
    confirmed_by TEXT,
    confirmed_at BIGINT,
    result       TEXT,
    failure      TEXT,
    -- The undo's ActionSpec as JSON, once it ran.
    undo         TEXT,
    finished_at  BIGINT
);
CREATE INDEX maintenance_actions_by_window ON maintenance_actions (window_id, phase);
CREATE TABLE maintenance_log (
    id        BIGSERIAL PRIMARY KEY,
    window_id BIGINT  NOT NULL REFERENCES maintenance_windows (id),
    at        BIGINT  NOT NULL,
    actor     TEXT    NOT NULL,
    text      TEXT    NOT NULL
);
CREATE INDEX maintenance_log_by_window ON maintenance_log (window_id, id);
