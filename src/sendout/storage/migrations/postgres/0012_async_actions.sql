-- Async actions: work a request hands to the worker (generating many codes) and the record a
-- client polls (GET /v1/async-actions/{id}); the worker holds one with a lease while it runs it.

CREATE TABLE async_actions (
    id             text COLLATE "C" PRIMARY KEY,
    project_id     text COLLATE "C" NOT NULL REFERENCES projects (id),
    type           text COLLATE "C" NOT NULL,
    status         text COLLATE "C" NOT NULL,
    campaign_id    text COLLATE "C",
    requested      bigint NOT NULL DEFAULT 0,
    done           bigint NOT NULL DEFAULT 0,
    params         text COLLATE "C" NOT NULL DEFAULT '{}',
    result         text COLLATE "C",
    request_id     text COLLATE "C" NOT NULL,
    created_at     text COLLATE "C" NOT NULL,
    updated_at     text COLLATE "C",
    processing_ms  bigint,
    lease_until_ms bigint NOT NULL DEFAULT 0
);
CREATE INDEX async_actions_project ON async_actions (project_id, created_at);
CREATE INDEX async_actions_open ON async_actions (status, lease_until_ms) WHERE status IN ('ENQUEUED', 'IN_PROGRESS');
