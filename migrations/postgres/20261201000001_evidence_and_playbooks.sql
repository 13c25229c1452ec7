-- Evidence captured from the cluster for an incident: one immutable JSON
-- document per capture (app::domain::evidence::Evidence), its SHA-256 on the
-- timeline. Admin-edited and admin-added playbooks (the shipped ones live in
-- the code until an admin changes them).

CREATE TABLE evidence (
    id          BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    -- What was captured: deployment/shop/checkout, pod/shop/x, node/worker-2, control-plane.
    subject     TEXT   NOT NULL,
    captured_at BIGINT NOT NULL,
    captured_by TEXT   NOT NULL,
    -- The document exactly as served for download; sha256 is of these bytes.
    document    TEXT   NOT NULL,
    sha256      TEXT   NOT NULL,
    bytes       BIGINT NOT NULL
);
CREATE INDEX evidence_by_incident ON evidence (incident_id, id);

-- Evidence is immutable: the database refuses edits and deletions.
CREATE FUNCTION refuse_evidence_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'evidence is immutable';
END
$$;
CREATE TRIGGER evidence_no_update_or_delete BEFORE UPDATE OR DELETE ON evidence
    FOR EACH ROW EXECUTE FUNCTION refuse_evidence_change();
CREATE TRIGGER evidence_no_truncate BEFORE TRUNCATE ON evidence
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_evidence_change();

CREATE TABLE playbooks (
    id         TEXT   PRIMARY KEY,
    -- The YAML as the admin wrote it (comments kept).
    source     TEXT   NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT   NOT NULL
);
