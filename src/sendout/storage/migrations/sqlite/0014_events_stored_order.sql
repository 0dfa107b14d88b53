-- Events stored in the same millisecond keep the order they were stored in: a simulation
-- replays history in that order. SQLite's rowid already is that order; nothing to add.

SELECT 1;
