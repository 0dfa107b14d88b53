-- Events stored in the same millisecond keep the order they were stored in: a simulation
-- replays history in that order (event ids are random, so they cannot break the tie).

ALTER TABLE events ADD COLUMN seq bigserial;
