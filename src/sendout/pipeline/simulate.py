"""Simulating a distribution over stored history: what it would have done, with nothing written.

``simulate`` reads (one snapshot each, never a write) the trigger's stored events in a time
range, oldest first, with their customers as stored now, and for a promotion purpose the
campaign (and its tier, or its codes); ``replay`` is pure and does the rest. Each event goes
through the steps tracking runs (:func:`sendout.pipeline.deliveries.perform`), in its order:
conditions, then the re-entry limit (counting only the sends simulated before it, as if the
distribution had gone live at ``since``), then the purpose; it is counted as a send or under
the outcome tracking would record.

What the simulation cannot know is said in docs/api.md: customer paths are judged on the
customer as stored now, and events of a customer deleted since are left out.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field

from sendout.actions.notify_promotion import RESULT_INACTIVE
from sendout.clock import parse_iso, to_ms
from sendout.errors import InvalidInput, NotFound
from sendout.matching.conditions import facts_of
from sendout.matching.reentry import window
from sendout.pipeline.deliveries import Held, held_by_conditions, held_by_reentry
from sendout.promotions.publishing import NO_VOUCHER
from sendout.promotions.records import Campaign
from sendout.records import Customer, Distribution, Event, History
from sendout.storage.base import Storage

__all__ = ["MAX_EVENTS", "Codes", "Purpose", "Simulation", "replay", "simulate"]

MAX_EVENTS = 200_000  # events one simulation may replay; a wider range is refused


@dataclass(frozen=True, slots=True)
class Codes:
    """What a ``publish_unique_code`` run would take from its campaign."""

    campaign_id: str
    needed: int  # new codes the sends asked for
    available: int  # unpublished active codes at the start
    missing: int  # asked for beyond those: generated (AUTO_UPDATE) or not sent (STATIC)


@dataclass(frozen=True, slots=True)
class Simulation:
    events: int  # events considered
    would_send: int  # events the distribution would send for
    skipped: dict[str, int]  # outcome -> events
    customers: int  # distinct customers among the events considered
    customers_sent: int  # distinct customers who would get at least one send
    codes: Codes | None


@dataclass(slots=True)
class Purpose:
    """The purpose's answer per send, from the campaign as it stands: ``None`` (it sends) or the
    outcome it would record. A plain message always sends; a disabled tier never does."""

    refusal: str | None = None
    campaign: Campaign | None = None  # publish_unique_code only
    unpublished: int = 0  # the campaign's codes that can still be published, at the start
    needed: int = 0
    taken: int = 0
    holders: set[str] = field(default_factory=set)

    def send(self, customer_id: str) -> str | None:
        if self.refusal is not None or self.campaign is None:
            return self.refusal
        if self.campaign.join_once and customer_id in self.holders:
            return None  # the publication the customer holds is sent again
        if not self.campaign.active:
            return NO_VOUCHER
        self.needed += 1
        if self.taken < self.unpublished or self.campaign.type == "AUTO_UPDATE":
            self.taken += 1
            self.holders.add(customer_id)
            return None
        return NO_VOUCHER

    def codes(self) -> Codes | None:
        if self.campaign is None:
            return None
        available = self.unpublished
        return Codes(self.campaign.id, self.needed, available, max(0, self.needed - available))


async def simulate(
    storage: Storage, distribution: Distribution, since: str, until: str
) -> Simulation:
    """What ``distribution`` would have done for its trigger's events in [since, until)."""
    history = await storage.history(
        distribution.project_id, distribution.trigger_event, since, until, MAX_EVENTS + 1
    )
    if len(history.events) > MAX_EVENTS:
        raise InvalidInput(
            f"More than {MAX_EVENTS:,} '{distribution.trigger_event}' events were tracked between"
            f" {since} and {until}; simulate a narrower range",
            key="too_many_events",
            message="Too many events to simulate",
        )
    return replay(distribution, history, await purpose_of(storage, distribution))


async def purpose_of(storage: Storage, distribution: Distribution) -> Purpose:
    """The purpose's state, read once: its campaign and tier, or its campaign's codes."""
    action = distribution.action
    try:
        if action.get("type") == "notify_promotion":
            campaign = await storage.get_campaign(distribution.project_id, action["campaign_id"])
            tier = await storage.get_promotion_tier(
                distribution.project_id, action["promotion_tier_id"]
            )
            return Purpose(None if campaign.active and tier.active else RESULT_INACTIVE)
        if action.get("type") == "publish_unique_code":
            campaign = await storage.get_campaign(distribution.project_id, action["campaign_id"])
            counts = await storage.code_counts(distribution.project_id, campaign.id)
            holders = await storage.campaign_holders(distribution.project_id, campaign.id)
            return Purpose(campaign=campaign, unpublished=counts.remaining, holders=set(holders))
    except NotFound as gone:
        if action.get("type") == "notify_promotion":
            return Purpose(RESULT_INACTIVE)
        return Purpose(gone.key)
    return Purpose()


def replay(distribution: Distribution, history: History, purpose: Purpose) -> Simulation:
    """Count what each event would do, oldest first. Pure: time comes from the events."""
    skipped: Counter[str] = Counter()
    entered: dict[str, list[int]] = {}  # customer -> times of the sends simulated so far
    considered: set[str] = set()
    sent_to: set[str] = set()
    sends = 0
    for event in history.events:
        customer = history.customers.get(event.customer_id)
        if customer is None:
            continue
        considered.add(customer.id)
        at_ms = to_ms(parse_iso(event.created_at))
        held = _held(distribution, event, customer, entered.get(customer.id, []), at_ms)
        outcome = held[0] if held is not None else purpose.send(customer.id)
        if outcome is not None:
            skipped[outcome] += 1
            continue
        sends += 1
        sent_to.add(customer.id)
        if distribution.reentry is not None:
            entered.setdefault(customer.id, []).append(at_ms)
    return Simulation(
        events=sends + sum(skipped.values()),
        would_send=sends,
        skipped=dict(sorted(skipped.items())),
        customers=len(considered),
        customers_sent=len(sent_to),
        codes=purpose.codes(),
    )


def _held(
    distribution: Distribution, event: Event, customer: Customer, sends: list[int], at_ms: int
) -> Held | None:
    held = None
    if distribution.conditions:
        held = held_by_conditions(distribution, facts_of(event.metadata, customer))
    if held is None and (limit := window(distribution.reentry, at_ms)) is not None:
        since_ms, most = limit
        in_window = len(sends) - bisect_left(sends, -1 if since_ms is None else since_ms)
        held = held_by_reentry(distribution, in_window, most)
    return held
