-- At most one default project, so processes starting together on an empty database agree on it.
-- A database where two were created by such a start keeps the oldest as the default.

UPDATE projects SET is_default = false
WHERE is_default AND id <> (
    SELECT id FROM projects WHERE is_default ORDER BY created_at, id LIMIT 1
);
CREATE UNIQUE INDEX projects_one_default ON projects (is_default) WHERE is_default;
