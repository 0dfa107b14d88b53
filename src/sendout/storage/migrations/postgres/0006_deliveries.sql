-- One word for the outbox row: the table `messages` becomes `deliveries` (the public API already
-- said delivery), `attempts.message_id` becomes `delivery_id`; indexes, constraints and the
-- sequence renamed to the names a fresh schema gives them.

ALTER TABLE messages RENAME TO deliveries;
ALTER TABLE attempts RENAME COLUMN message_id TO delivery_id;

ALTER INDEX messages_pkey RENAME TO deliveries_pkey;
ALTER INDEX messages_due RENAME TO deliveries_due;
ALTER INDEX messages_created RENAME TO deliveries_created;
ALTER INDEX messages_distribution RENAME TO deliveries_distribution;
ALTER INDEX messages_event RENAME TO deliveries_event;
ALTER INDEX messages_finished RENAME TO deliveries_finished;
ALTER INDEX messages_pending_distribution RENAME TO deliveries_pending_distribution;
ALTER INDEX attempts_message RENAME TO attempts_delivery;
ALTER TABLE deliveries RENAME CONSTRAINT messages_project_id_fkey TO deliveries_project_id_fkey;
ALTER TABLE attempts RENAME CONSTRAINT attempts_message_id_fkey TO attempts_delivery_id_fkey;
ALTER SEQUENCE messages_seq_seq RENAME TO deliveries_seq_seq;
