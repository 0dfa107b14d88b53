-- What an event name triggers is read for every tracked event, and kept in memory between
-- transactions (storage/sqlite/catalog.py). Any change to event_schemas or distributions, by
-- any connection or process, sets catalog_version to a new random value: a cache that sees
-- another value reads them again. Random, not a counter: a rolled-back change then cannot
-- bring back a value that a cache filled inside it still holds.

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
