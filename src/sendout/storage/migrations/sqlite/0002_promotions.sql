-- sendout schema, version 2 (SQLite): campaigns, codes, publications, promotion tiers,
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
CREATE INDEX distribution_outcomes_created ON distribution_outcomes (project_id, created_at);
