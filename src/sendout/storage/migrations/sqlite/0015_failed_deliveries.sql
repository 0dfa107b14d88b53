-- sendout status and the metrics count deliveries that failed for good lately: the time of
-- their last attempt is next_attempt_at; failed ones are few, so the index is small.

CREATE INDEX deliveries_failed ON deliveries (next_attempt_at) WHERE status = 'failed';
