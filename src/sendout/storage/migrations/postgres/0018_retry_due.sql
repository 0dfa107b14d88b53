-- The worker's retry lane claims pending deliveries with attempts > 0 in due order. Walking
-- deliveries_due for them read past every due first attempt: with a backlog of 120,000 new
-- webhooks, each claim of the retry lane that found nothing read all of them (18 ms on SQLite,
-- and the worker asks whenever its first-attempt claim leaves room). Retries are few, so the
-- index is small, and a first attempt enters it only when it fails.

CREATE INDEX deliveries_retry_due ON deliveries (next_attempt_at) WHERE status = 'pending' AND attempts > 0;
