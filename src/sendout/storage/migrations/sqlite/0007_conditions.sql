-- Distribution conditions (Voucherify's filter shape, as JSON text); NULL: no conditions.

ALTER TABLE distributions ADD COLUMN conditions TEXT;
