-- Retention: finished messages (and their attempts) are purged oldest first.

CREATE INDEX messages_finished ON messages (created_at) WHERE status <> 'pending';
