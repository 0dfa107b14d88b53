"""Select the distributions a custom event triggers. Pure."""

from __future__ import annotations

from collections.abc import Iterable

from sendout.records import Distribution

__all__ = ["CUSTOM_EVENT_TRIGGER", "matching_distributions"]

CUSTOM_EVENT_TRIGGER = "customer.custom_event"


def matching_distributions(
    distributions: Iterable[Distribution], event_name: str
) -> list[Distribution]:
    """Active distributions whose trigger is this custom event, oldest first."""
    return sorted(
        (
            d
            for d in distributions
            if d.status == "ACTIVE"
            and d.trigger_type == CUSTOM_EVENT_TRIGGER
            and d.trigger_event == event_name
        ),
        key=lambda d: (d.created_at, d.id),
    )
