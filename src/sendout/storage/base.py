"""The storage interface: domain verbs, not a generic repository.

Each backend implements every verb; where SQLite and PostgreSQL differ (claims, wake-ups) is
exactly inside these verbs. Verbs that refuse raise :mod:`sendout.errors` exceptions and leave
nothing written.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sendout.promotions.records import (
    Campaign,
    CodeCounts,
    CustomerStanding,
    EarningRule,
    LoyaltyTransaction,
    PromotionOutcome,
    PromotionTier,
    Publication,
    ReferralConversion,
    Voucher,
)
from sendout.records import (
    AsyncAction,
    ClaimedDelivery,
    Customer,
    CustomerFields,
    Delivery,
    DeliveryCopy,
    DeliveryRequest,
    Distribution,
    Event,
    EventSchema,
    History,
    Outcome,
    Page,
    Project,
    PropertyDef,
    QueueCounts,
)

__all__ = [
    "ActionStep",
    "CustomerRef",
    "DeliveryFilter",
    "IdempotencyKey",
    "PublicationFilter",
    "Storage",
    "Wake",
]

if TYPE_CHECKING:
    from sendout.storage.tx import Batches, Tx

T = TypeVar("T")


class Wake(Protocol):
    """Tell a worker that deliveries may be due: an event's new deliveries only
    (``retries=False``), or retries too (a resend, replay, resume, anything else)."""

    def __call__(self, *, retries: bool = True) -> None: ...


@dataclass(frozen=True, slots=True)
class ActionStep:
    """One step of an async action a worker holds, and what to record with it."""

    action: AsyncAction  # as claimed: its ``lease_until_ms`` fences the write
    generate: int  # codes to generate into its campaign in this step (0: none)
    status: str  # the action's status after the step
    result: dict[str, Any] | None
    now: str
    lease_until_ms: int  # the renewed lease
    processing_ms: int | None = None


@dataclass(frozen=True, slots=True)
class CustomerRef:
    """How a request names a customer: our ``cust_`` id, the caller's ``source_id``, or both."""

    id: str | None = None
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """An ``Idempotency-Key`` and the hash of the request body it was sent with."""

    route: str
    key: str
    request_hash: str
    not_before_ms: int  # records older than this are expired and ignored


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    distribution_id: str | None = None
    event_id: str | None = None
    status: str | None = None
    since: str | None = None  # created at or after (ISO 8601)
    until: str | None = None  # created before (ISO 8601)


@dataclass(frozen=True, slots=True)
class PublicationFilter:
    campaign: str | None = None  # name or id
    customer: str | None = None  # id or source_id
    voucher: str | None = None  # code
    result: str | None = None  # SUCCESS | FAILURE
    voucher_type: str | None = None  # discount | loyalty
    is_referral_code: bool | None = None
    source_id: str | None = None
    order: str = "-created_at"


class Storage(Protocol):
    # --- life cycle -------------------------------------------------------------------------
    async def open(self) -> None:
        """Connect (and create the SQLite file's folder); raises if the database cannot be
        reached."""

    async def close(self) -> None:
        """Finish what was handed in, then release every connection and thread."""

    async def migrate(self) -> list[str]:
        """Apply pending migrations; return the names applied."""

    async def pending_migrations(self) -> list[str]:
        """The names of the migrations this version has that the database lacks (a read)."""

    async def keeps_statistics(self) -> bool:
        """Whether the database keeps its planner's statistics up to date by itself (on
        PostgreSQL, autovacuum is on); always so on SQLite, whose plans need none."""

    async def subscribe(self, wake: Wake) -> None:
        """Call ``wake`` when another process enqueues deliveries (PostgreSQL ``LISTEN``), with
        ``retries=False`` when they are only an event's new deliveries.

        A no-op on SQLite: its one process wakes its worker directly after each commit.
        """

    # --- instance and projects ---------------------------------------------------------------
    async def get_setting(self, key: str) -> str | None:
        """The instance setting ``key`` (generated credentials, …), or ``None``."""

    async def put_setting(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``, replacing what was there."""

    async def put_setting_if_absent(self, key: str, value: str) -> str:
        """Store ``value`` unless ``key`` holds one already; the stored value either way (so
        processes starting together on an empty database all end with the same one)."""

    async def default_project(self) -> Project | None:
        """The project created on first start, or ``None`` before it exists."""

    async def create_default_project(self, project: Project) -> Project:
        """The default project: ``project``, created now, unless another process created one
        first. :class:`~sendout.errors.Conflict` if ``project``'s app id belongs to another."""

    async def create_project(self, project: Project, *, is_default: bool) -> Project:
        """Store a new project; Conflict if its app id is taken."""

    async def update_project_credentials(
        self, project_id: str, *, app_id: str, app_token_sha256: str, webhook_secret: str
    ) -> Project:
        """Replace the project's app id, app token digest and webhook secret; NotFound if
        none."""

    async def put_voucherify_secrets(
        self, project_id: str, current: str, staged: str | None
    ) -> Project:
        """Replace the secret that keys ``x-voucherify-signature`` and the one staged to
        follow it; NotFound if there is no such project."""

    async def project_by_app_id(self, app_id: str) -> Project | None:
        """The project whose app id this is, or ``None`` (authentication)."""

    async def get_project(self, project_id: str) -> Project:
        """The project; NotFound if there is none with this id."""

    async def list_projects(self) -> list[Project]:
        """Every project, oldest first."""

    async def rotate_webhook_secret(
        self, project_id: str, new_secret: str, previous_expires_ms: int
    ) -> Project:
        """Sign with ``new_secret`` from now on, and with the old one as well until
        ``previous_expires_ms``."""

    async def seal_stored_secrets(self) -> int:
        """Rewrite, sealed with this store's key, every project whose secrets are stored in
        the clear; how many were (none without a key)."""

    # --- customers -----------------------------------------------------------------------------
    async def upsert_customer(
        self, project_id: str, ref: CustomerRef, fields: CustomerFields, now: str
    ) -> Customer:
        """The customer ``ref`` names with ``fields`` applied, created from a ``source_id`` if
        new; NotFound for an unknown ``cust_`` id."""

    async def get_customer(self, project_id: str, id_or_source_id: str) -> Customer:
        """The customer with this id or ``source_id``; NotFound if none."""

    async def update_customer(
        self, project_id: str, id_or_source_id: str, fields: CustomerFields, now: str
    ) -> Customer:
        """Apply the fields given (``None`` leaves one as it is); NotFound if no such customer."""

    async def delete_customer(self, project_id: str, id_or_source_id: str) -> None:
        """Delete the customer; NotFound if none. Its events stay."""

    async def list_customers(
        self, project_id: str, page: Page, *, email: str | None, name: str | None, order: str
    ) -> tuple[list[Customer], int]:
        """One page of the project's customers (filtered by email or name, in ``order``) and
        the total."""

    # --- custom event schemas -------------------------------------------------------------------
    async def create_event_schema(
        self,
        project_id: str,
        schema_id: str,
        name: str,
        properties: dict[str, PropertyDef],
        now: str,
    ) -> EventSchema:
        """Store a custom event schema; Conflict if the project has one of this name."""

    async def get_event_schema(self, project_id: str, schema_id: str) -> EventSchema:
        """The schema with this id; NotFound if none."""

    async def list_event_schemas(self, project_id: str) -> list[EventSchema]:
        """Every schema of the project, oldest first."""

    async def update_event_schema(
        self, project_id: str, schema_id: str, properties: dict[str, PropertyDef], now: str
    ) -> EventSchema:
        """Replace the schema's properties; NotFound if none."""

    async def delete_event_schema(self, project_id: str, schema_id: str) -> None:
        """Delete the schema; Conflict while a distribution is triggered by it."""

    async def event_schema_exists(self, project_id: str, name: str) -> bool:
        """Does the project have a schema of this name?"""

    # --- the pipeline's transaction ----------------------------------------------------------
    async def transaction(
        self, project_id: str, now: str, work: Callable[[Tx], Coroutine[Any, Any, T]]
    ) -> T:
        """Run ``work`` on one write transaction of the project at ``now`` (ISO 8601): all it
        writes commits together, nothing if it raises. On SQLite ``work`` runs on the writer
        thread and may await nothing but ``Tx`` verbs."""

    @property
    def batches(self) -> Batches | None:
        """Batched tracking; ``None`` where the backend gains nothing from it (both backends
        offer it)."""

    # --- events ------------------------------------------------------------------------------
    async def purge_idempotency_keys(self, before_ms: int) -> int:
        """Delete the idempotency records stored before ``before_ms``; how many went."""

    async def purge_finished_deliveries(self, before: str, now_ms: int, limit: int) -> int:
        """Delete at most ``limit`` of the oldest delivered, failed or canceled deliveries created
        before ``before`` (ISO 8601), with their attempts; how many deliveries went. Pending
        deliveries, deliveries a worker holds (a lease running at ``now_ms``: canceled while in
        flight) and events are never purged."""

    async def get_event(self, project_id: str, event_id: str) -> Event:
        """The stored event; NotFound if none in this project."""

    async def list_events(
        self,
        project_id: str,
        page: Page,
        *,
        customer_id: str | None,
        event_name: str | None,
        since: str | None = None,
        until: str | None = None,
    ) -> tuple[list[Event], int]:
        """One page of the project's events, newest first (of one customer, of one name,
        created in [since, until)), and the total."""

    async def events_per_bucket(
        self, project_id: str, since: str, width: int
    ) -> list[tuple[str, int]]:
        """Events created at or after ``since``, counted per the first ``width`` characters of
        their ISO 8601 ``created_at`` (16: per minute, 13: per hour), oldest bucket first."""

    async def history(
        self, project_id: str, event_name: str, since: str, until: str, limit: int
    ) -> History:
        """The project's events of that name created in [since, until) (ISO 8601), oldest first,
        at most ``limit``, with their customers as stored now (one snapshot; a deleted
        customer is absent)."""

    # --- distributions -------------------------------------------------------------------------
    async def create_distribution(self, distribution: Distribution) -> Distribution:
        """Store the distribution; ``unknown_event`` if its trigger has no schema."""

    async def get_distribution(self, project_id: str, distribution_id: str) -> Distribution:
        """The distribution with its channels' health; NotFound if none."""

    async def list_distributions(
        self, project_id: str, page: Page
    ) -> tuple[list[Distribution], int]:
        """One page of the project's distributions, oldest first, and the total."""

    async def replace_distribution(self, distribution: Distribution) -> Distribution:
        """Store the new definition (channel health reset where channels changed); NotFound if
        none."""

    async def delete_distribution(self, project_id: str, distribution_id: str, now: str) -> None:
        """Delete it and cancel its pending deliveries; NotFound if none."""

    async def resume_distribution(
        self, project_id: str, distribution_id: str, now: str, now_ms: int
    ) -> Distribution:
        """Set live: status ACTIVE, paused channels reset, the backlog due now in creation order.

        Raises :class:`sendout.errors.Conflict` when neither it nor a channel is paused."""

    # --- outbox and deliveries ---------------------------------------------------------------
    async def claim_due(
        self,
        now_ms: int,
        limit: int,
        lease_ms: int,
        *,
        retries: bool,
        exclude: Sequence[str] = (),
    ) -> list[ClaimedDelivery]:
        """Lease up to ``limit`` due deliveries of active, unpaused channels.

        ``retries`` picks the lane: first attempts (False) or retries (True), so neither starves
        the other; ``exclude`` names destinations at their concurrency limit. An expired lease
        makes a delivery due again."""

    async def release(self, delivery_ids: Sequence[str]) -> None:
        """Give back claimed deliveries that were not attempted."""

    async def record_outcomes(
        self, outcomes: Sequence[Outcome], *, pause_after: int, now: str
    ) -> None:
        """Record attempts, move deliveries on, and pause channels that keep failing."""

    async def resend_delivery(self, project_id: str, delivery_id: str, now_ms: int) -> Delivery:
        """Make one more attempt of a delivery now (the same delivery, the same envelope id)."""

    async def replay_deliveries(
        self, project_id: str, distribution_id: str, since: str, now_ms: int
    ) -> int:
        """Make failed deliveries (and pending ones that have failed) of a distribution created
        at or after ``since`` due now; return how many."""

    async def next_due_ms(self, until_ms: int) -> int | None:
        """When the earliest pending delivery falls due (or its lease expires), if that is at
        or before ``until_ms``: the worker asks only as far as it would sleep anyway, so that
        the due index is walked up to there and no further."""

    async def list_deliveries(
        self, project_id: str, page: Page, where: DeliveryFilter
    ) -> tuple[list[Delivery], int]:
        """One page of the project's deliveries with their attempts, newest first, filtered,
        and the total."""

    async def deliveries_created(
        self, project_id: str, distribution_id: str, since: str, limit: int
    ) -> list[DeliveryCopy]:
        """The distribution's deliveries created at or after ``since`` (ISO 8601), oldest
        first, at most ``limit``, each with the headers and body it posts."""

    async def get_delivery(self, project_id: str, delivery_id: str) -> Delivery:
        """The delivery with every attempt; NotFound if none in this project."""

    async def get_delivery_request(self, project_id: str, delivery_id: str) -> DeliveryRequest:
        """The URL, stored headers and exact body the delivery posts; NotFound if none."""

    async def deliveries_per_bucket(
        self, project_id: str, since: str, width: int
    ) -> list[tuple[str, str, int]]:
        """Deliveries created at or after ``since``, counted per (first ``width`` characters of
        ``created_at``, status), oldest bucket first."""

    async def oldest_pending(self, project_id: str) -> Delivery | None:
        """The project's pending delivery due the earliest (paused ones too), if any."""

    async def queue_counts(
        self, project_id: str, now_ms: int, failed_since_ms: int
    ) -> list[QueueCounts]:
        """Per distribution with pending deliveries or deliveries failed for good at or after
        ``failed_since_ms``: those counts and the earliest next attempt, by distribution id."""

    # --- promotions: campaigns, codes, publications, tiers, loyalty, referral (issue 3) -------
    async def create_campaign(
        self, campaign: Campaign, tiers: Sequence[PromotionTier], vouchers_count: int
    ) -> Campaign:
        """Store the campaign, its tiers and ``vouchers_count`` generated codes, all or nothing."""

    async def get_campaign(self, project_id: str, id_or_name: str) -> Campaign:
        """The campaign with this id or name; NotFound if none."""

    async def list_campaigns(
        self, project_id: str, page: Page, *, campaign_type: str | None
    ) -> tuple[list[Campaign], int]:
        """One page of the project's campaigns (of one type), newest first, and the total."""

    async def replace_campaign(self, campaign: Campaign) -> Campaign:
        """Store the campaign's changed settings (name and type stay); the campaign as stored."""

    async def delete_campaign(self, project_id: str, id_or_name: str) -> None:
        """Delete it with its codes, publications, tiers and rules (409 if a distribution uses it)."""

    async def generate_vouchers(
        self,
        project_id: str,
        id_or_name: str,
        count: int,
        code_config: dict[str, Any] | None,
        now: str,
    ) -> tuple[Campaign, int]:
        """Add ``count`` unique generated codes; returns the campaign after and how many."""

    async def add_voucher(
        self, project_id: str, id_or_name: str, code: str, metadata: dict[str, Any], now: str
    ) -> tuple[Voucher, Campaign]:
        """Add one code (``code`` given) to the campaign; the code and the campaign after;
        Conflict if taken."""

    async def import_codes(
        self, project_id: str, id_or_name: str, codes: Sequence[str], now: str
    ) -> int:
        """Add these codes (one transaction); codes already in the project are skipped."""

    async def get_voucher(self, project_id: str, code: str) -> tuple[Voucher, Campaign]:
        """The code with its campaign; NotFound if none."""

    async def list_vouchers(
        self, project_id: str, page: Page, *, campaign: str | None, holder_id: str | None
    ) -> tuple[list[tuple[Voucher, Campaign]], int]:
        """One page of codes (of one campaign, held by one customer) in the order they were
        added, with their campaigns, and the total."""

    async def list_publications(
        self, project_id: str, page: Page, where: PublicationFilter
    ) -> tuple[list[tuple[Publication, Customer, Campaign]], int]:
        """One page of publications with their customer and campaign, filtered and ordered, and
        the total."""

    async def campaign_holders(self, project_id: str, campaign_id: str) -> frozenset[str]:
        """The customers holding a publication of the campaign."""

    async def code_counts(self, project_id: str, campaign_id: str) -> CodeCounts:
        """How many codes the campaign has, how many are published, how many can still be."""

    async def code_counts_by_campaign(self, project_id: str) -> dict[str, CodeCounts]:
        """:meth:`code_counts` of every campaign of the project with a code, in one read (a
        campaign without any is absent)."""

    # --- async actions -------------------------------------------------------------------------
    async def create_async_action(self, action: AsyncAction) -> None:
        """Store a new async action as given."""

    async def get_async_action(self, project_id: str, action_id: str) -> AsyncAction:
        """The action; NotFound if none in this project."""

    async def list_async_actions(
        self, project_id: str, page: Page
    ) -> tuple[list[AsyncAction], int]:
        """One page of the project's actions, newest first, and the total."""

    async def claim_async_action(self, now_ms: int, lease_ms: int) -> AsyncAction | None:
        """The oldest action that is enqueued, or in progress with an expired lease (a worker
        died), now ``IN_PROGRESS`` and held until ``now_ms + lease_ms``; None if there is none."""

    async def advance_async_action(self, step: ActionStep) -> AsyncAction | None:
        """In one transaction: generate ``step.generate`` codes into the action's campaign (with
        the ``code_config`` of its params), add them to ``done`` and record the step's status,
        result and lease. None, with nothing written, if the action is no longer held with the
        lease it was claimed with; a refused generation (NotFound, InvalidInput) writes
        nothing."""

    async def generating_campaigns(self, project_id: str, campaign_ids: Sequence[str]) -> set[str]:
        """Those of the campaigns with a code generation enqueued or in progress."""

    async def create_promotion_tier(self, tier: PromotionTier) -> PromotionTier:
        """``hierarchy`` <= 0 means "after the last tier of the campaign"."""

    async def get_promotion_tier(self, project_id: str, tier_id: str) -> PromotionTier:
        """The tier; NotFound if none."""

    async def list_promotion_tiers(
        self, project_id: str, campaign: str | None, page: Page
    ) -> tuple[list[PromotionTier], int]:
        """One page of tiers (of one campaign), in hierarchy order, and the total."""

    async def replace_promotion_tier(self, tier: PromotionTier) -> PromotionTier:
        """Store the tier's new definition; NotFound if none."""

    async def delete_promotion_tier(self, project_id: str, tier_id: str) -> None:
        """Delete the tier; Conflict while a distribution notifies it."""

    async def create_earning_rules(
        self, project_id: str, campaign: str, rules: Sequence[dict[str, Any]], now: str
    ) -> list[EarningRule]:
        """Store earning rules on a loyalty campaign, all or none; each must name a schema of
        the project."""

    async def list_earning_rules(
        self, project_id: str, campaign: str, page: Page
    ) -> tuple[list[EarningRule], int]:
        """One page of the loyalty campaign's earning rules, oldest first, and the total."""

    async def get_earning_rule(self, project_id: str, campaign: str, rule_id: str) -> EarningRule:
        """The earning rule of this campaign; NotFound if none."""

    async def delete_earning_rule(self, project_id: str, campaign: str, rule_id: str) -> None:
        """Delete the earning rule; NotFound if none."""

    async def list_loyalty_transactions(
        self, project_id: str, code: str, page: Page
    ) -> tuple[list[LoyaltyTransaction], int]:
        """One page of a loyalty card's points transactions, newest first, and the total."""

    async def list_referral_conversions(
        self, project_id: str, page: Page, *, campaign: str | None, referrer_id: str | None
    ) -> tuple[list[ReferralConversion], int]:
        """One page of referral conversions (of one campaign, one referrer), newest first, and the
        total."""

    async def customer_standings(
        self, project_id: str, customer_ids: Sequence[str]
    ) -> dict[str, CustomerStanding]:
        """Per given customer with any: card balance and referrals made per program, referrals received."""

    async def list_distribution_outcomes(
        self,
        project_id: str,
        page: Page,
        *,
        distribution_id: str | None,
        result: str | None,
        event_id: str | None = None,
    ) -> tuple[list[PromotionOutcome], int]:
        """One page of why events sent nothing for a distribution (of one, of one result, of
        one event), newest first, and the total."""
