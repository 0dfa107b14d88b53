-- Delivery guarantees: channel health and pauses, destinations, secret rotation, idempotency.

ALTER TABLE messages ADD COLUMN destination text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN seq bigserial;  -- creation order, for a resumed backlog
CREATE INDEX messages_pending_distribution ON messages (distribution_id, created_at)
    WHERE status = 'pending';

CREATE TABLE channel_states (
    distribution_id      text COLLATE "C" NOT NULL,
    channel_index        integer NOT NULL,
    consecutive_failures integer NOT NULL DEFAULT 0,
    paused_at            text COLLATE "C",
    pause_reason         text COLLATE "C",
    PRIMARY KEY (distribution_id, channel_index)
);

ALTER TABLE projects ADD COLUMN previous_webhook_secret text COLLATE "C";
ALTER TABLE projects ADD COLUMN previous_secret_expires_ms bigint;

CREATE TABLE idempotency_keys (
    project_id   text COLLATE "C" NOT NULL,
    route        text COLLATE "C" NOT NULL,
    key          text COLLATE "C" NOT NULL,
    request_hash text COLLATE "C" NOT NULL,
    status_code  integer NOT NULL,
    response     bytea NOT NULL,
    created_ms   bigint NOT NULL,
    PRIMARY KEY (project_id, route, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_ms);
