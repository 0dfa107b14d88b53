-- The current postgres schema in one piece: what `migrate` creates in an empty database.
-- Keep it equal to applying every numbered migration in order (tests/storage/test_migrations.py
-- checks it); when you add a migration, change this file the same way.

CREATE TABLE instance_settings (
    key   text COLLATE "C" PRIMARY KEY,
    value text COLLATE "C" NOT NULL
);

CREATE TABLE projects (
    id             text COLLATE "C" PRIMARY KEY,
    name           text COLLATE "C" NOT NULL,
    app_id         text COLLATE "C" NOT NULL UNIQUE,
    app_token      text COLLATE "C" NOT NULL,
    webhook_secret text COLLATE "C" NOT NULL,
    is_default     boolean NOT NULL DEFAULT false,
    created_at     text COLLATE "C" NOT NULL
);

CREATE TABLE customers (
    id          text COLLATE "C" PRIMARY KEY,
    project_id  text COLLATE "C" NOT NULL REFERENCES projects (id),
    source_id   text COLLATE "C",
    name        text COLLATE "C",
    description text COLLATE "C",
    email       text COLLATE "C",
    phone       text COLLATE "C",
    birthdate   text COLLATE "C",
    address     text COLLATE "C",
    metadata    text COLLATE "C" NOT NULL DEFAULT '{}',
    created_at  text COLLATE "C" NOT NULL,
    updated_at  text COLLATE "C"
);
CREATE UNIQUE INDEX customers_source_id ON customers (project_id, source_id) WHERE source_id IS NOT NULL;
CREATE INDEX customers_created ON customers (project_id, created_at);

CREATE TABLE event_schemas (
    id         text COLLATE "C" PRIMARY KEY,
    project_id text COLLATE "C" NOT NULL REFERENCES projects (id),
    name       text COLLATE "C" NOT NULL,
    properties text COLLATE "C" NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    updated_at text COLLATE "C",
    UNIQUE (project_id, name)
);

CREATE TABLE events (
    id          text COLLATE "C" PRIMARY KEY,
    project_id  text COLLATE "C" NOT NULL REFERENCES projects (id),
    type        text COLLATE "C" NOT NULL,
    customer_id text COLLATE "C" NOT NULL,
    schema_id   text COLLATE "C" NOT NULL,
    metadata    text COLLATE "C" NOT NULL,
    referral    text COLLATE "C",
    loyalty     text COLLATE "C",
    request_id  text COLLATE "C" NOT NULL,
    created_at  text COLLATE "C" NOT NULL
);
CREATE INDEX events_created ON events (project_id, created_at);
CREATE INDEX events_customer ON events (project_id, customer_id, created_at);

CREATE TABLE distributions (
    id            text COLLATE "C" PRIMARY KEY,
    project_id    text COLLATE "C" NOT NULL REFERENCES projects (id),
    name          text COLLATE "C" NOT NULL,
    trigger_type  text COLLATE "C" NOT NULL,
    trigger_event text COLLATE "C" NOT NULL,
    action        text COLLATE "C" NOT NULL,
    channels      text COLLATE "C" NOT NULL,
    status        text COLLATE "C" NOT NULL,
    created_at    text COLLATE "C" NOT NULL,
    updated_at    text COLLATE "C"
);
CREATE INDEX distributions_trigger ON distributions (project_id, trigger_event);

-- The outbox: one row per webhook send-out (its id is the envelope id, whs_…).
CREATE TABLE messages (
    id               text COLLATE "C" PRIMARY KEY,
    project_id       text COLLATE "C" NOT NULL REFERENCES projects (id),
    distribution_id  text COLLATE "C" NOT NULL,
    event_id         text COLLATE "C" NOT NULL,
    channel_index    integer NOT NULL,
    event_name       text COLLATE "C" NOT NULL,
    url              text COLLATE "C" NOT NULL,
    headers          text COLLATE "C" NOT NULL,
    body             bytea NOT NULL,
    status           text COLLATE "C" NOT NULL,          -- pending | delivered | failed | canceled
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  bigint NOT NULL,                    -- ms
    lease_until      bigint NOT NULL DEFAULT 0,          -- ms; a claim holds the message until then
    created_at       text COLLATE "C" NOT NULL,
    delivered_at     text COLLATE "C",
    last_status_code integer
);
CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status = 'pending';
CREATE INDEX messages_created ON messages (project_id, created_at);
CREATE INDEX messages_distribution ON messages (distribution_id, created_at);
CREATE INDEX messages_event ON messages (event_id);

CREATE TABLE attempts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id       text COLLATE "C" NOT NULL REFERENCES messages (id),
    attempted_at     text COLLATE "C" NOT NULL,
    status_code      integer,
    latency_ms       double precision NOT NULL,
    error            text COLLATE "C",
    response_excerpt text COLLATE "C"
);
CREATE INDEX attempts_message ON attempts (message_id, id);

-- 0003_delivery_guarantees

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
