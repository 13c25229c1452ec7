-- Break-glass: when an admin waived the two-person rule for an incident (the
-- reason is on its timeline). NULL: the rule holds.
ALTER TABLE incidents ADD COLUMN two_person_waived_at BIGINT;
