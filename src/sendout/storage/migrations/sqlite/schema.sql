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
    app_token_sha256 TEXT NOT NULL,
    webhook_secret TEXT NOT NULL,
    is_default     INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL
);
CREATE UNIQUE INDEX projects_one_default ON projects (is_default) WHERE is_default = 1;

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

-- The outbox: one row per delivery, one webhook for one channel (its id is the envelope id, whs_…).
CREATE TABLE deliveries (
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
    lease_until      INTEGER NOT NULL DEFAULT 0,  -- ms; a claim holds the delivery until then
    created_at       TEXT NOT NULL,
    delivered_at     TEXT,
    last_status_code INTEGER
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_created ON deliveries (project_id, created_at);
CREATE INDEX deliveries_distribution ON deliveries (distribution_id, created_at);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_finished ON deliveries (created_at) WHERE status <> 'pending';

CREATE TABLE attempts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id      TEXT NOT NULL REFERENCES deliveries (id),
    attempted_at     TEXT NOT NULL,
    status_code      INTEGER,
    latency_ms       REAL NOT NULL,
    error            TEXT,
    response_excerpt TEXT
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, id);

-- 0002_promotions
-- loyalty earning rules and transactions, referral conversions, distribution outcomes.
-- New tables only; nothing in 0001 changes.

CREATE TABLE campaigns (
    id               TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES projects (id),
    name             TEXT NOT NULL,
    campaign_type    TEXT NOT NULL,          -- DISCOUNT_COUPONS | PROMOTION | REFERRAL_PROGRAM | LOYALTY_PROGRAM
    type             TEXT NOT NULL,          -- STATIC | AUTO_UPDATE
    description      TEXT,
    join_once        INTEGER NOT NULL DEFAULT 0,
    auto_join        INTEGER NOT NULL DEFAULT 0,
    active           INTEGER NOT NULL DEFAULT 1,
    voucher          TEXT,                   -- JSON code template
    referral_program TEXT,                   -- JSON
    metadata         TEXT NOT NULL DEFAULT '{}',
    vouchers_count   INTEGER NOT NULL DEFAULT 0,
    start_date       TEXT,
    expiration_date  TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT,
    UNIQUE (project_id, name)
);
CREATE INDEX campaigns_created ON campaigns (project_id, created_at);

-- One row per code. holder_id is set once, when the code is published; the claim is
-- "UPDATE … WHERE holder_id IS NULL", so a code can never go to two customers.
CREATE TABLE vouchers (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id),
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    holder_id   TEXT,
    active      INTEGER NOT NULL DEFAULT 1,
    points      INTEGER NOT NULL DEFAULT 0,
    balance     INTEGER NOT NULL DEFAULT 0,
    metadata    TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT,
    UNIQUE (project_id, code)
);
CREATE INDEX vouchers_campaign ON vouchers (campaign_id);
CREATE INDEX vouchers_unpublished ON vouchers (campaign_id) WHERE holder_id IS NULL;
CREATE INDEX vouchers_holder ON vouchers (holder_id) WHERE holder_id IS NOT NULL;

CREATE TABLE publications (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (id),
    campaign_id     TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    customer_id     TEXT NOT NULL,
    source_id       TEXT,
    channel         TEXT NOT NULL,
    metadata        TEXT NOT NULL DEFAULT '{}',
    distribution_id TEXT,
    event_id        TEXT,
    created_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX publications_source_id ON publications (project_id, source_id)
    WHERE source_id IS NOT NULL;
CREATE INDEX publications_customer ON publications (project_id, customer_id, campaign_id);
CREATE INDEX publications_campaign ON publications (campaign_id, created_at);
CREATE INDEX publications_created ON publications (project_id, created_at);

-- Which codes a publication handed out; a code belongs to at most one publication, ever.
CREATE TABLE publication_vouchers (
    publication_id TEXT NOT NULL REFERENCES publications (id) ON DELETE CASCADE,
    voucher_id     TEXT NOT NULL UNIQUE REFERENCES vouchers (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    PRIMARY KEY (publication_id, position)
);

CREATE TABLE promotion_tiers (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (id),
    campaign_id     TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    banner          TEXT,
    action          TEXT,
    metadata        TEXT NOT NULL DEFAULT '{}',
    hierarchy       INTEGER NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1,
    start_date      TEXT,
    expiration_date TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT
);
CREATE INDEX promotion_tiers_campaign ON promotion_tiers (campaign_id, hierarchy);

CREATE TABLE earning_rules (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id),
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    event       TEXT NOT NULL,
    schema_id   TEXT NOT NULL,
    loyalty     TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    metadata    TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL,
    updated_at  TEXT
);
CREATE INDEX earning_rules_campaign ON earning_rules (campaign_id, event);

CREATE TABLE loyalty_transactions (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (id),
    voucher_id      TEXT NOT NULL REFERENCES vouchers (id) ON DELETE CASCADE,
    campaign_id     TEXT NOT NULL,
    earning_rule_id TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    points          INTEGER NOT NULL,
    balance         INTEGER NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX loyalty_transactions_voucher ON loyalty_transactions (voucher_id, created_at);

-- A customer is referred at most once per referral campaign.
CREATE TABLE referral_conversions (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id),
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    voucher_id  TEXT NOT NULL,
    code        TEXT NOT NULL,
    referrer_id TEXT NOT NULL,
    referee_id  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (campaign_id, referee_id)
);
CREATE INDEX referral_conversions_referrer ON referral_conversions (project_id, referrer_id);
CREATE INDEX referral_conversions_referee ON referral_conversions (project_id, referee_id);

-- Why an event caused no webhook for a distribution (e.g. no_voucher_suitable_for_publication).
CREATE TABLE distribution_outcomes (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (id),
    distribution_id TEXT,
    event_id        TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    campaign_id     TEXT,
    result          TEXT NOT NULL,
    details         TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX distribution_outcomes_distribution
    ON distribution_outcomes (project_id, distribution_id, created_at);
CREATE INDEX distribution_outcomes_event ON distribution_outcomes (project_id, event_id);
CREATE INDEX distribution_outcomes_created ON distribution_outcomes (project_id, created_at);

-- 0003_delivery_guarantees

ALTER TABLE deliveries ADD COLUMN destination TEXT NOT NULL DEFAULT '';
CREATE INDEX deliveries_pending_distribution ON deliveries (distribution_id, created_at) WHERE status = 'pending';

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
ALTER TABLE projects ADD COLUMN description TEXT;
ALTER TABLE projects ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE projects ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';
ALTER TABLE projects ADD COLUMN voucherify_secret TEXT;
ALTER TABLE projects ADD COLUMN staged_voucherify_secret TEXT;

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

-- 0007: distribution conditions
ALTER TABLE distributions ADD COLUMN conditions TEXT;

-- 0008: re-entry limits
ALTER TABLE distributions ADD COLUMN reentry TEXT;

CREATE TABLE distribution_entries (
    distribution_id TEXT NOT NULL,  -- no foreign key: tracking never waits on a distribution delete
    customer_id     TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    entered_ms      INTEGER NOT NULL
);
CREATE INDEX distribution_entries_customer ON distribution_entries (distribution_id, customer_id, entered_ms);
CREATE INDEX distribution_entries_of_customer ON distribution_entries (customer_id);

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

-- 0015_failed_deliveries

CREATE INDEX deliveries_failed ON deliveries (next_attempt_at) WHERE status = 'failed';

-- 0016_ordered_delivery

ALTER TABLE deliveries ADD COLUMN order_key TEXT;
CREATE INDEX deliveries_order ON deliveries (distribution_id, channel_index, order_key, next_attempt_at) WHERE status = 'pending' AND order_key IS NOT NULL;

-- 0017_catalog_version

CREATE TABLE catalog_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);
CREATE TRIGGER event_schemas_inserted AFTER INSERT ON event_schemas
BEGIN UPDATE catalog_version SET version = random(); END;
CREATE TRIGGER event_schemas_updated AFTER UPDATE ON event_schemas
BEGIN UPDATE catalog_version SET version = random(); END;
CREATE TRIGGER event_schemas_deleted AFTER DELETE ON event_schemas
BEGIN UPDATE catalog_version SET version = random(); END;
CREATE TRIGGER distributions_inserted AFTER INSERT ON distributions
BEGIN UPDATE catalog_version SET version = random(); END;
CREATE TRIGGER distributions_updated AFTER UPDATE ON distributions
BEGIN UPDATE catalog_version SET version = random(); END;
CREATE TRIGGER distributions_deleted AFTER DELETE ON distributions
BEGIN UPDATE catalog_version SET version = random(); END;

-- 0018_retry_due

CREATE INDEX deliveries_retry_due ON deliveries (next_attempt_at) WHERE status = 'pending' AND attempts > 0;
