-- x-voucherify-signature gets a secret of its own (a Voucherify secret key kept verbatim), and
-- one staged to follow it, so it rotates in steps a one-signature receiver can live through.
-- Existing projects keep signing it with their webhook secret, as before.

ALTER TABLE projects ADD COLUMN voucherify_secret TEXT;
ALTER TABLE projects ADD COLUMN staged_voucherify_secret TEXT;
UPDATE projects SET voucherify_secret = webhook_secret;
