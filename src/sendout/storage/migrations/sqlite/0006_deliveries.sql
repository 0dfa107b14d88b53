-- One word for the outbox row: the table `messages` becomes `deliveries` (the public API already
-- said delivery), `attempts.message_id` becomes `delivery_id`, indexes renamed to match.

ALTER TABLE messages RENAME TO deliveries;
ALTER TABLE attempts RENAME COLUMN message_id TO delivery_id;

DROP INDEX messages_due;
DROP INDEX messages_created;
DROP INDEX messages_distribution;
DROP INDEX messages_event;
DROP INDEX messages_finished;
DROP INDEX messages_pending_distribution;
DROP INDEX attempts_message;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_created ON deliveries (project_id, created_at);
CREATE INDEX deliveries_distribution ON deliveries (distribution_id, created_at);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_finished ON deliveries (created_at) WHERE status <> 'pending';
CREATE INDEX deliveries_pending_distribution ON deliveries (distribution_id, created_at) WHERE status = 'pending';
CREATE INDEX attempts_delivery ON attempts (delivery_id, id);
