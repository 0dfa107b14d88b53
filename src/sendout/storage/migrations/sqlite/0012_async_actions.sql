-- Async actions: work a request hands to the worker (generating many codes) and the record a
-- client polls (GET /v1/async-actions/{id}); the worker holds one with a lease while it runs it.

CREATE TABLE async_actions (
    id             TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL REFERENCES projects (id),
    type           TEXT NOT NULL,
    status         TEXT NOT NULL,
    campaign_id    TEXT,
    requested      INTEGER NOT NULL DEFAULT 0,
    done           INTEGER NOT NULL DEFAULT 0,
    params         TEXT NOT NULL DEFAULT '{}',
    result         TEXT,
    request_id     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT,
    processing_ms  INTEGER,
    lease_until_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX async_actions_project ON async_actions (project_id, created_at);
CREATE INDEX async_actions_open ON async_actions (status, lease_until_ms) WHERE status IN ('ENQUEUED', 'IN_PROGRESS');
