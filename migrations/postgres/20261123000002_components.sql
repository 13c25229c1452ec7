-- Service components defined by admins, every status change of every
-- component (the history behind uptime), the stretches when Wheelhouse could
-- not see the cluster, and the live events that Server-Sent Events replay.

CREATE TABLE components (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT   NOT NULL,
    -- The name folded to lower case: names are unique regardless of case.
    name_key    TEXT   NOT NULL UNIQUE,
    description TEXT   NOT NULL,
    group_name  TEXT   NOT NULL,
    namespace   TEXT   NOT NULL,
    selector    TEXT   NOT NULL,
    visibility  TEXT   NOT NULL CHECK (visibility IN ('public', 'internal')),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Whether the drill scenario's suggested components were offered once, so
-- that deleting them all does not bring them back.
CREATE TABLE component_seeding (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    seeded_at BIGINT  NOT NULL
);

CREATE TABLE component_status_changes (
    id            BIGSERIAL PRIMARY KEY,
    component_key TEXT   NOT NULL,
    status        TEXT   NOT NULL CHECK (status IN ('operational', 'under_maintenance', 'degraded_performance', 'partial_outage', 'major_outage')),
    -- JSON: [{"subject": …, "detail": …}]
    reasons       TEXT   NOT NULL,
    changed_at    BIGINT NOT NULL
);
CREATE INDEX component_status_changes_by_key ON component_status_changes (component_key, changed_at);

CREATE TABLE cluster_blind_spans (
    id         BIGSERIAL PRIMARY KEY,
    started_at BIGINT NOT NULL,
    ended_at   BIGINT
);

CREATE TABLE live_events (
    id         BIGSERIAL PRIMARY KEY,
    kind       TEXT   NOT NULL,
    -- JSON, as sent to Server-Sent Events clients.
    payload    TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX live_events_created_at ON live_events (created_at);
