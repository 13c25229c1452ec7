-- Which published updates had their webhook deliveries queued. An update
-- commits with the timeline and its deliveries follow in a second
-- transaction; at start-up Wheelhouse queues those of any update whose
-- process stopped between the two (kill -9), each exactly once.
CREATE TABLE webhook_fanout (
    event_id BIGINT PRIMARY KEY REFERENCES incident_events (id),
    at       BIGINT NOT NULL
);
-- What was published before this table existed counts as fanned out.
INSERT INTO webhook_fanout (event_id, at) SELECT id, at FROM incident_events WHERE kind = 'update_posted';
