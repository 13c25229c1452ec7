-- The post-incident review (app::domain::review): its state on the incident
-- row (it moves with the timeline, in the same transaction), its written
-- sections, every edit as a revision, the timeline entries starred or
-- unstarred by hand, and follow-ups.

ALTER TABLE incidents ADD COLUMN review_state TEXT CHECK (review_state IN ('draft', 'in_review', 'published'));
ALTER TABLE incidents ADD COLUMN closed_at BIGINT;

CREATE TABLE reviews (
    incident_id   BIGINT PRIMARY KEY REFERENCES incidents (id),
    -- JSON: app::domain::review::Sections.
    sections      TEXT   NOT NULL,
    -- The impact start set by hand, with its reason; NULL: computed from facts.
    impact_start  BIGINT,
    impact_reason TEXT,
    revision      BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    updated_by    TEXT   NOT NULL
);

CREATE TABLE review_revisions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id   BIGINT NOT NULL REFERENCES incidents (id),
    revision      BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    author        TEXT   NOT NULL,
    -- What changed, in words: "Summary, Trigger", "Follow-up #3 added".
    changed       TEXT   NOT NULL,
    -- The sections and impact start after the change.
    sections      TEXT   NOT NULL,
    impact_start  BIGINT,
    impact_reason TEXT,
    UNIQUE (incident_id, revision)
);

CREATE TABLE review_stars (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    event_id    BIGINT NOT NULL REFERENCES incident_events (id),
    starred     BIGINT NOT NULL CHECK (starred IN (0, 1)),
    changed_by  TEXT   NOT NULL,
    changed_at  BIGINT NOT NULL,
    PRIMARY KEY (incident_id, event_id)
);

CREATE TABLE follow_ups (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    title       TEXT   NOT NULL,
    owner_id    BIGINT REFERENCES users (id),
    -- Days since 1970-01-01 (UTC).
    due_day     BIGINT,
    status      TEXT   NOT NULL CHECK (status IN ('open', 'done', 'wont_do')),
    link        TEXT,
    -- JSON array of component keys.
    components  TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT   NOT NULL,
    updated_at  BIGINT NOT NULL,
    done_at     BIGINT
);
CREATE INDEX follow_ups_by_incident ON follow_ups (incident_id, id);
CREATE INDEX follow_ups_by_owner ON follow_ups (owner_id, status);
CREATE INDEX incidents_by_declared_at ON incidents (declared_at);
