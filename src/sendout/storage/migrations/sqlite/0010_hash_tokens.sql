-- App and management tokens are only ever compared: keep their SHA-256 (lowercase hex of the
-- UTF-8 bytes), not the tokens. Existing tokens keep working: they are hashed here.
-- sha256_hex is a function sendout adds to every SQLite connection it opens.

ALTER TABLE projects RENAME COLUMN app_token TO app_token_sha256;
UPDATE projects SET app_token_sha256 = sha256_hex(app_token_sha256);
UPDATE instance_settings SET key = 'management_token_sha256', value = sha256_hex(value)
    WHERE key = 'management_token';
