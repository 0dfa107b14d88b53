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
    app_token_sha256 text COLLATE "C" NOT NULL,
    webhook_secret text COLLATE "C" NOT NULL,
    is_default     boolean NOT NULL DEFAULT false,
    created_at     text COLLATE "C" NOT NULL
);
CREATE UNIQUE INDEX projects_one_default ON projects (is_default) WHERE is_default;

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
    created_at  text COLLATE "C" NOT NULL,
    seq         bigserial
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

-- The outbox: one row per delivery, one webhook for one channel (its id is the envelope id, whs_…).
CREATE TABLE deliveries (
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
    lease_until      bigint NOT NULL DEFAULT 0,          -- ms; a claim holds the delivery until then
    created_at       text COLLATE "C" NOT NULL,
    delivered_at     text COLLATE "C",
    last_status_code integer
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_created ON deliveries (project_id, created_at);
CREATE INDEX deliveries_distribution ON deliveries (distribution_id, created_at);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_finished ON deliveries (created_at) WHERE status <> 'pending';

CREATE TABLE attempts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id      text COLLATE "C" NOT NULL REFERENCES deliveries (id),
    attempted_at     text COLLATE "C" NOT NULL,
    status_code      integer,
    latency_ms       double precision NOT NULL,
    error            text COLLATE "C",
    response_excerpt text COLLATE "C"
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, id);

-- 0002_promotions

CREATE TABLE campaigns (
    id               text COLLATE "C" PRIMARY KEY,
    project_id       text COLLATE "C" NOT NULL REFERENCES projects (id),
    name             text COLLATE "C" NOT NULL,
    campaign_type    text COLLATE "C" NOT NULL,  -- DISCOUNT_COUPONS | PROMOTION | REFERRAL_PROGRAM | LOYALTY_PROGRAM
    type             text COLLATE "C" NOT NULL,  -- STATIC | AUTO_UPDATE
    description      text COLLATE "C",
    join_once        boolean NOT NULL DEFAULT false,
    auto_join        boolean NOT NULL DEFAULT false,
    active           boolean NOT NULL DEFAULT true,
    voucher          text COLLATE "C",           -- JSON code template
    referral_program text COLLATE "C",           -- JSON
    metadata         text COLLATE "C" NOT NULL DEFAULT '{}',
    vouchers_count   bigint NOT NULL DEFAULT 0,
    start_date       text COLLATE "C",
    expiration_date  text COLLATE "C",
    created_at       text COLLATE "C" NOT NULL,
    updated_at       text COLLATE "C",
    UNIQUE (project_id, name)
);
CREATE INDEX campaigns_created ON campaigns (project_id, created_at);

-- One row per code. holder_id is set once, when the code is published; the claim is
-- "UPDATE … WHERE holder_id IS NULL" over rows locked FOR UPDATE SKIP LOCKED, so a code can
-- never go to two customers. seq: insertion order (SQLite's rowid), for listings and claims.
-- project_id has no foreign key of its own (unlike SQLite): the campaign's implies it, and a
-- second per-row check would make bulk code generation about a third slower.
CREATE TABLE vouchers (
    id          text COLLATE "C" PRIMARY KEY,
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    project_id  text COLLATE "C" NOT NULL,
    campaign_id text COLLATE "C" NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    code        text COLLATE "C" NOT NULL,
    holder_id   text COLLATE "C",
    active      boolean NOT NULL DEFAULT true,
    points      bigint NOT NULL DEFAULT 0,
    balance     bigint NOT NULL DEFAULT 0,
    metadata    text COLLATE "C",
    created_at  text COLLATE "C" NOT NULL,
    updated_at  text COLLATE "C",
    UNIQUE (project_id, code)
);
CREATE INDEX vouchers_campaign ON vouchers (campaign_id, seq);
CREATE INDEX vouchers_unpublished ON vouchers (campaign_id, seq) WHERE holder_id IS NULL;
CREATE INDEX vouchers_holder ON vouchers (holder_id) WHERE holder_id IS NOT NULL;

CREATE TABLE publications (
    id              text COLLATE "C" PRIMARY KEY,
    project_id      text COLLATE "C" NOT NULL REFERENCES projects (id),
    campaign_id     text COLLATE "C" NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    customer_id     text COLLATE "C" NOT NULL,
    source_id       text COLLATE "C",
    channel         text COLLATE "C" NOT NULL,
    metadata        text COLLATE "C" NOT NULL DEFAULT '{}',
    distribution_id text COLLATE "C",
    event_id        text COLLATE "C",
    created_at      text COLLATE "C" NOT NULL
);
CREATE UNIQUE INDEX publications_source_id ON publications (project_id, source_id)
    WHERE source_id IS NOT NULL;
CREATE INDEX publications_customer ON publications (project_id, customer_id, campaign_id);
CREATE INDEX publications_campaign ON publications (campaign_id, created_at);
CREATE INDEX publications_created ON publications (project_id, created_at);

-- Which codes a publication handed out; a code belongs to at most one publication, ever.
CREATE TABLE publication_vouchers (
    publication_id text COLLATE "C" NOT NULL REFERENCES publications (id) ON DELETE CASCADE,
    voucher_id     text COLLATE "C" NOT NULL UNIQUE REFERENCES vouchers (id) ON DELETE CASCADE,
    position       integer NOT NULL,
    PRIMARY KEY (publication_id, position)
);

CREATE TABLE promotion_tiers (
    id              text COLLATE "C" PRIMARY KEY,
    project_id      text COLLATE "C" NOT NULL REFERENCES projects (id),
    campaign_id     text COLLATE "C" NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    name            text COLLATE "C" NOT NULL,
    banner          text COLLATE "C",
    action          text COLLATE "C",
    metadata        text COLLATE "C" NOT NULL DEFAULT '{}',
    hierarchy       integer NOT NULL,
    active          boolean NOT NULL DEFAULT true,
    start_date      text COLLATE "C",
    expiration_date text COLLATE "C",
    created_at      text COLLATE "C" NOT NULL,
    updated_at      text COLLATE "C"
);
CREATE INDEX promotion_tiers_campaign ON promotion_tiers (campaign_id, hierarchy);

CREATE TABLE earning_rules (
    id          text COLLATE "C" PRIMARY KEY,
    project_id  text COLLATE "C" NOT NULL REFERENCES projects (id),
    campaign_id text COLLATE "C" NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    event       text COLLATE "C" NOT NULL,
    schema_id   text COLLATE "C" NOT NULL,
    loyalty     text COLLATE "C" NOT NULL,
    active      boolean NOT NULL DEFAULT true,
    metadata    text COLLATE "C" NOT NULL DEFAULT '{}',
    created_at  text COLLATE "C" NOT NULL,
    updated_at  text COLLATE "C"
);
CREATE INDEX earning_rules_campaign ON earning_rules (campaign_id, event);

CREATE TABLE loyalty_transactions (
    id              text COLLATE "C" PRIMARY KEY,
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    project_id      text COLLATE "C" NOT NULL REFERENCES projects (id),
    voucher_id      text COLLATE "C" NOT NULL REFERENCES vouchers (id) ON DELETE CASCADE,
    campaign_id     text COLLATE "C" NOT NULL,
    earning_rule_id text COLLATE "C" NOT NULL,
    event_id        text COLLATE "C" NOT NULL,
    points          bigint NOT NULL,
    balance         bigint NOT NULL,
    created_at      text COLLATE "C" NOT NULL
);
CREATE INDEX loyalty_transactions_voucher ON loyalty_transactions (voucher_id, created_at);

-- A customer is referred at most once per referral campaign.
CREATE TABLE referral_conversions (
    id          text COLLATE "C" PRIMARY KEY,
    project_id  text COLLATE "C" NOT NULL REFERENCES projects (id),
    campaign_id text COLLATE "C" NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    voucher_id  text COLLATE "C" NOT NULL,
    code        text COLLATE "C" NOT NULL,
    referrer_id text COLLATE "C" NOT NULL,
    referee_id  text COLLATE "C" NOT NULL,
    event_id    text COLLATE "C" NOT NULL,
    created_at  text COLLATE "C" NOT NULL,
    UNIQUE (campaign_id, referee_id)
);
CREATE INDEX referral_conversions_referrer ON referral_conversions (project_id, referrer_id);
CREATE INDEX referral_conversions_referee ON referral_conversions (project_id, referee_id);

-- Why an event caused no webhook for a distribution (e.g. no_voucher_suitable_for_publication).
CREATE TABLE distribution_outcomes (
    id              text COLLATE "C" PRIMARY KEY,
    project_id      text COLLATE "C" NOT NULL REFERENCES projects (id),
    distribution_id text COLLATE "C",
    event_id        text COLLATE "C" NOT NULL,
    customer_id     text COLLATE "C" NOT NULL,
    campaign_id     text COLLATE "C",
    result          text COLLATE "C" NOT NULL,
    details         text COLLATE "C" NOT NULL,
    created_at      text COLLATE "C" NOT NULL
);
CREATE INDEX distribution_outcomes_distribution
    ON distribution_outcomes (project_id, distribution_id, created_at);
CREATE INDEX distribution_outcomes_event ON distribution_outcomes (project_id, event_id);
CREATE INDEX distribution_outcomes_created ON distribution_outcomes (project_id, created_at);

-- 0003_delivery_guarantees

ALTER TABLE deliveries ADD COLUMN destination text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN seq bigserial;  -- creation order, for a resumed backlog
CREATE INDEX deliveries_pending_distribution ON deliveries (distribution_id, created_at)
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
ALTER TABLE projects ADD COLUMN description text COLLATE "C";
ALTER TABLE projects ADD COLUMN timezone text COLLATE "C" NOT NULL DEFAULT 'UTC';
ALTER TABLE projects ADD COLUMN currency text COLLATE "C" NOT NULL DEFAULT 'USD';
ALTER TABLE projects ADD COLUMN voucherify_secret text COLLATE "C";
ALTER TABLE projects ADD COLUMN staged_voucherify_secret text COLLATE "C";

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

-- 0007: distribution conditions
ALTER TABLE distributions ADD COLUMN conditions text COLLATE "C";

-- 0008: re-entry limits
ALTER TABLE distributions ADD COLUMN reentry text COLLATE "C";

CREATE TABLE distribution_entries (
    distribution_id text COLLATE "C" NOT NULL,  -- no foreign key: tracking never waits on a distribution delete
    customer_id     text COLLATE "C" NOT NULL,
    event_id        text COLLATE "C" NOT NULL,
    entered_ms      bigint NOT NULL
);
CREATE INDEX distribution_entries_customer ON distribution_entries (distribution_id, customer_id, entered_ms);
CREATE INDEX distribution_entries_of_customer ON distribution_entries (customer_id);

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

-- 0015_failed_deliveries

CREATE INDEX deliveries_failed ON deliveries (next_attempt_at) WHERE status = 'failed';

-- 0016_ordered_delivery

ALTER TABLE deliveries ADD COLUMN order_key text COLLATE "C";
CREATE INDEX deliveries_order ON deliveries (distribution_id, channel_index, order_key, next_attempt_at, seq) WHERE status = 'pending' AND order_key IS NOT NULL;

-- 0018_retry_due

CREATE INDEX deliveries_retry_due ON deliveries (next_attempt_at) WHERE status = 'pending' AND attempts > 0;
