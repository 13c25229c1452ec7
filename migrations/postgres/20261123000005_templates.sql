-- Stakeholder-update templates that an admin changed; the others are the shipped defaults.
CREATE TABLE update_templates (
    audience   TEXT   NOT NULL CHECK (audience IN ('public', 'internal', 'executive')),
    purpose    TEXT   NOT NULL CHECK (purpose IN ('investigating', 'identified', 'monitoring', 'resolved', 'severity_change', 'maintenance')),
    body       TEXT   NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT   NOT NULL,
    PRIMARY KEY (audience, purpose)
);
