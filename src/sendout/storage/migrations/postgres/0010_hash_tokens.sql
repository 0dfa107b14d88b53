-- App and management tokens are only ever compared: keep their SHA-256 (lowercase hex of the
-- UTF-8 bytes), not the tokens. Existing tokens keep working: they are hashed here.

ALTER TABLE projects RENAME COLUMN app_token TO app_token_sha256;
UPDATE projects SET app_token_sha256 = encode(sha256(convert_to(app_token_sha256, 'UTF8')), 'hex');
UPDATE instance_settings
    SET key = 'management_token_sha256', value = encode(sha256(convert_to(value, 'UTF8')), 'hex')
    WHERE key = 'management_token';
