-- The current sqlite schema in one piece: what `migrate` creates in an empty database.
-- Keep it equal to applying every numbered migration in order (tests/storage/test_migrations.py
-- checks it); when you add a migration, change this file the same way.

CREATE TABLE instance_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE projects (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    app_id         TEXT NOT NULL UNIQUE,
    app_token      TEXT NOT NULL,
    webhook_secret TEXT NOT NULL,
    is_default     INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL
);

CREATE TABLE customers (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id),
    source_id   TEXT,
    name        TEXT,
    description TEXT,
    email       TEXT,
    phone       TEXT,
    birthdate   TEXT,
    address     TEXT,
    metadata    TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL,
    updated_at  TEXT
);
CREATE UNIQUE INDEX customers_source_id ON customers (project_id, source_id) WHERE source_id IS NOT NULL;
CREATE INDEX customers_created ON customers (project_id, created_at);

CREATE TABLE event_schemas (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id),
    name       TEXT NOT NULL,
    properties TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (project_id, name)
);

CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id),
    type        TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    schema_id   TEXT NOT NULL,
    metadata    TEXT NOT NULL,
    referral    TEXT,
    loyalty     TEXT,
    request_id  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX events_created ON events (project_id, created_at);
CREATE INDEX events_customer ON events (project_id, customer_id, created_at);

CREATE TABLE distributions (
    id            TEXT PRIMARY KEY,
    project_id    TEXT NOT NULL REFERENCES projects (id),
    name          TEXT NOT NULL,
    trigger_type  TEXT NOT NULL,
    trigger_event TEXT NOT NULL,
    action        TEXT NOT NULL,
    channels      TEXT NOT NULL,
    status        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT
);
CREATE INDEX distributions_trigger ON distributions (project_id, trigger_event);

-- The outbox: one row per webhook send-out (its id is the envelope id, whs_…).
CREATE TABLE messages (
    id               TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES projects (id),
    distribution_id  TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    channel_index    INTEGER NOT NULL,
    event_name       TEXT NOT NULL,
    url              TEXT NOT NULL,
    headers          TEXT NOT NULL,
    body             BLOB NOT NULL,
    status           TEXT NOT NULL,          -- pending | delivered | failed | canceled
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,       -- ms
    lease_until      INTEGER NOT NULL DEFAULT 0,  -- ms; a claim holds the message until then
    created_at       TEXT NOT NULL,
    delivered_at     TEXT,
    last_status_code INTEGER
);
CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status = 'pending';
CREATE INDEX messages_created ON messages (project_id, created_at);
CREATE INDEX messages_distribution ON messages (distribution_id, created_at);
CREATE INDEX messages_event ON messages (event_id);

CREATE TABLE attempts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id       TEXT NOT NULL REFERENCES messages (id),
    attempted_at     TEXT NOT NULL,
    status_code      INTEGER,
    latency_ms       REAL NOT NULL,
    error            TEXT,
    response_excerpt TEXT
);
CREATE INDEX attempts_message ON attempts (message_id, id);
