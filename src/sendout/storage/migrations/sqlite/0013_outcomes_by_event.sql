-- The dashboard's event page lists the outcomes of one event.

CREATE INDEX distribution_outcomes_event ON distribution_outcomes (project_id, event_id);
