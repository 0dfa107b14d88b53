-- Ordered delivery: a delivery to a channel with "ordering": "per_customer" carries its order
-- key (the customer's id) and waits, held, for the older ones of its key (outbox/ordering.py).
-- The index finds a key's free delivery and its oldest held one (by seq) in one probe each.

ALTER TABLE deliveries ADD COLUMN order_key text COLLATE "C";
CREATE INDEX deliveries_order ON deliveries (distribution_id, channel_index, order_key, next_attempt_at, seq) WHERE status = 'pending' AND order_key IS NOT NULL;
