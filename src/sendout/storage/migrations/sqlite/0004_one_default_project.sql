-- At most one default project, so processes starting together on an empty database agree on it.
-- A database where two were created by such a start keeps the oldest as the default.

UPDATE projects SET is_default = 0
WHERE is_default = 1 AND id <> (
    SELECT id FROM projects WHERE is_default = 1 ORDER BY created_at, id LIMIT 1
);
CREATE UNIQUE INDEX projects_one_default ON projects (is_default) WHERE is_default = 1;
