-- Re-entry limits: the rule on the distribution, and one row per send of a distribution that
-- has one (counted in the tracking transaction that decides the next send).

ALTER TABLE distributions ADD COLUMN reentry text COLLATE "C";

CREATE TABLE distribution_entries (
    distribution_id text COLLATE "C" NOT NULL,  -- no foreign key: tracking never waits on a distribution delete
    customer_id     text COLLATE "C" NOT NULL,
    event_id        text COLLATE "C" NOT NULL,
    entered_ms      bigint NOT NULL
);
CREATE INDEX distribution_entries_customer ON distribution_entries (distribution_id, customer_id, entered_ms);
CREATE INDEX distribution_entries_of_customer ON distribution_entries (customer_id);
