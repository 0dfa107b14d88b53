-- Delivery guarantees: channel health and pauses, destinations, secret rotation, idempotency.

ALTER TABLE messages ADD COLUMN destination TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_pending_distribution ON messages (distribution_id, created_at) WHERE status = 'pending';

CREATE TABLE channel_states (
    distribution_id      TEXT NOT NULL,
    channel_index        INTEGER NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    paused_at            TEXT,
    pause_reason         TEXT,
    PRIMARY KEY (distribution_id, channel_index)
);

ALTER TABLE projects ADD COLUMN previous_webhook_secret TEXT;
ALTER TABLE projects ADD COLUMN previous_secret_expires_ms INTEGER;

CREATE TABLE idempotency_keys (
    project_id   TEXT NOT NULL,
    route        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code  INTEGER NOT NULL,
    response     BLOB NOT NULL,
    created_ms   INTEGER NOT NULL,
    PRIMARY KEY (project_id, route, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_ms);
