-- Internal webhooks also hear when a planned maintenance action fails or is
-- skipped: such deliveries name their maintenance window (incident_id 0,
-- event_id the planned action) instead of an incident's update.
ALTER TABLE webhook_outbox ADD COLUMN window_id BIGINT;
ALTER TABLE webhook_deliveries ADD COLUMN window_id BIGINT;
