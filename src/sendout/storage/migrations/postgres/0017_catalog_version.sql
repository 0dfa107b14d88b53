-- SQLite only (its 0017 keeps a version of event_schemas and distributions for the cache of
-- what an event name triggers). PostgreSQL reads them in the one query of each transaction, so
-- this step changes nothing here; it keeps both backends' migrations numbered alike.
SELECT 1;
