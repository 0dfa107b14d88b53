"""The success response of every operation as JSON Schema: the shapes ``views.py`` and
``promotion_views.py`` render (Voucherify's field names), each a component of the document,
and which operation answers which, with what status."""

from __future__ import annotations

from typing import Any

from sendout.outbox.ordering import ORDERINGS

__all__ = ["COMPONENTS", "STREAMS", "SUCCESSES", "Success"]

JSON = dict[str, Any]
Success = tuple[int, str | None]
"""The status of a success, and the component its JSON body is (``None``: no body)."""

STRING: JSON = {"type": "string"}
TEXT: JSON = {"type": ["string", "null"]}
INTEGER: JSON = {"type": "integer"}
COUNT: JSON = {"type": ["integer", "null"]}
BOOLEAN: JSON = {"type": "boolean"}
OBJECT: JSON = {"type": "object"}
MAYBE_OBJECT: JSON = {"type": ["object", "null"]}
ANY: JSON = {}


def ref(name: str) -> JSON:
    return {"$ref": f"#/components/schemas/{name}"}


def shape(kind: str | None, fields: JSON, **optional: JSON) -> JSON:
    """An object with every key of ``fields`` (and ``object: kind``), maybe those of
    ``optional``; other keys are allowed (a client ignores what it does not know)."""
    properties = dict(fields)
    if kind is not None:
        properties["object"] = {"const": kind}
    properties.update(optional)
    return {
        "type": "object",
        "required": sorted(set(properties) - set(optional)),
        "properties": properties,
    }


def listing(key: str, item: str) -> JSON:
    """Voucherify's list envelope of ``item`` under ``key`` (``has_more`` on paged lists)."""
    return shape(
        "list",
        {
            "data_ref": {"const": key},
            key: {"type": "array", "items": ref(item)},
            "total": INTEGER,
        },
        has_more=BOOLEAN,
    )


_CUSTOMER = shape(
    "customer",
    {
        "id": STRING,
        "source_id": TEXT,
        "name": TEXT,
        "description": TEXT,
        "email": TEXT,
        "phone": TEXT,
        "birthdate": TEXT,
        "address": MAYBE_OBJECT,
        "summary": OBJECT,
        "loyalty": OBJECT,
        "referrals": OBJECT,
        "metadata": MAYBE_OBJECT,
        "system_metadata": OBJECT,
        "created_at": STRING,
        "updated_at": TEXT,
        "assets": OBJECT,
    },
)
_TRACKED_EVENT = shape(
    "event",
    {
        "id": STRING,
        "type": STRING,
        "customer": OBJECT,
        "referral": MAYBE_OBJECT,
        "loyalty": MAYBE_OBJECT,
        "metadata": MAYBE_OBJECT,
        "created_at": STRING,
    },
)
_EVENT = shape(
    "event",
    {
        "id": STRING,
        "type": STRING,
        "customer": OBJECT,
        "event_schema_id": TEXT,
        "referral": MAYBE_OBJECT,
        "loyalty": MAYBE_OBJECT,
        "metadata": MAYBE_OBJECT,
        "request_id": TEXT,
        "created_at": STRING,
    },
)
_BULK_RESULT: JSON = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": INTEGER,
        "replayed": BOOLEAN,
        "event": ref("TrackedEvent"),
        "error": ref("Error"),
    },
}
_BULK = shape(
    "list",
    {
        "data_ref": {"const": "results"},
        "total": INTEGER,
        "accepted": INTEGER,
        "refused": INTEGER,
        "results": {"type": "array", "items": _BULK_RESULT},
    },
)
_EVENT_SCHEMA = shape(
    "custom-event-schema",
    {"id": STRING, "name": STRING, "schema": OBJECT, "created_at": STRING, "updated_at": TEXT},
)
_PROJECT_FIELDS: JSON = {
    "id": STRING,
    "name": STRING,
    "description": TEXT,
    "timezone": STRING,
    "currency": STRING,
    "webhook_version": STRING,
    "created_at": STRING,
}
_CREDENTIALS = shape(
    None,
    {
        "app_id": STRING,
        "app_token": STRING,
        "webhook_secret": STRING,
        "voucherify_secret": STRING,
    },
)
_WEBHOOK_SECRET = shape(
    "webhook_secret",
    {
        "project_id": STRING,
        "webhook_secret": STRING,
        "previous_secret_expires_at": STRING,
    },
)
_VOUCHERIFY_SECRET = shape(
    "voucherify_secret",
    {"project_id": STRING, "voucherify_secret": STRING, "staged_voucherify_secret": TEXT},
)
_CHANNEL = shape(
    None,
    {
        "type": STRING,
        "event_name": STRING,
        "url": STRING,
        "headers": OBJECT,
        "retry_schedule": {"type": ["array", "null"]},
        "payload": OBJECT,
        "ordering": {"enum": list(ORDERINGS)},
        "status": {"enum": ["ACTIVE", "PAUSED"]},
        "paused_at": TEXT,
        "pause_reason": TEXT,
        "consecutive_failures": INTEGER,
    },
)
_DISTRIBUTION = shape(
    "distribution",
    {
        "id": STRING,
        "name": STRING,
        "trigger": OBJECT,
        "action": OBJECT,
        "channels": {"type": "array", "items": ref("Channel")},
        "status": STRING,
        "conditions": MAYBE_OBJECT,
        "reentry": OBJECT,
        "created_at": STRING,
        "updated_at": TEXT,
    },
)
_ATTEMPT = shape(
    None,
    {
        "attempted_at": STRING,
        "status_code": COUNT,
        "latency_ms": {"type": ["number", "null"]},
        "error": TEXT,
        "response_excerpt": TEXT,
    },
)
_DELIVERY = shape(
    "delivery",
    {
        "id": STRING,
        "distribution_id": STRING,
        "event_id": STRING,
        "channel_index": INTEGER,
        "type": STRING,
        "target_url": STRING,
        "status": {"enum": ["pending", "delivered", "failed", "canceled"]},
        "attempts_count": INTEGER,
        "next_attempt_at": TEXT,
        "held": BOOLEAN,
        "created_at": STRING,
        "delivered_at": TEXT,
        "attempts": {"type": "array", "items": ref("Attempt")},
    },
)
_REPLAY = shape(
    "replay",
    {"distribution_id": STRING, "since": STRING, "replayed": INTEGER},
)
_PREVIEW = shape(
    "distribution_preview",
    {
        "distribution_id": TEXT,
        "event_id": STRING,
        "decision": STRING,
        "details": ANY,
        "deliveries": {"type": "array", "items": OBJECT},
    },
)
_SIMULATION = shape(
    "distribution_simulation",
    {
        "distribution_id": TEXT,
        "event": STRING,
        "since": STRING,
        "until": STRING,
        "events": INTEGER,
        "would_send": INTEGER,
        "skipped": INTEGER,
        "customers": INTEGER,
        "customers_sent": INTEGER,
        "codes": MAYBE_OBJECT,
    },
)
_CAMPAIGN = shape(
    "campaign",
    {
        "id": STRING,
        "name": STRING,
        "description": TEXT,
        "campaign_type": STRING,
        "type": TEXT,
        "voucher": MAYBE_OBJECT,
        "auto_join": BOOLEAN,
        "join_once": BOOLEAN,
        "vouchers_count": INTEGER,
        "start_date": TEXT,
        "expiration_date": TEXT,
        "active": BOOLEAN,
        "metadata": MAYBE_OBJECT,
        "created_at": STRING,
        "updated_at": TEXT,
        "creation_status": STRING,
        "vouchers_generation_status": STRING,
    },
    referral_program=MAYBE_OBJECT,
    promotion=OBJECT,
)
_VOUCHER = shape(
    "voucher",
    {
        "id": STRING,
        "code": STRING,
        "campaign": STRING,
        "campaign_id": STRING,
        "type": STRING,
        "discount": MAYBE_OBJECT,
        "loyalty_card": MAYBE_OBJECT,
        "start_date": TEXT,
        "expiration_date": TEXT,
        "active": BOOLEAN,
        "metadata": MAYBE_OBJECT,
        "assets": OBJECT,
        "is_referral_code": BOOLEAN,
        "created_at": STRING,
        "updated_at": TEXT,
        "holder_id": TEXT,
        "publish": OBJECT,
        "redemption": OBJECT,
    },
)
_PUBLICATION = shape(
    "publication",
    {
        "id": STRING,
        "created_at": STRING,
        "customer_id": STRING,
        "tracking_id": TEXT,
        "metadata": MAYBE_OBJECT,
        "channel": TEXT,
        "source_id": TEXT,
        "result": STRING,
        "customer": OBJECT,
        "vouchers_id": {"type": "array", "items": STRING},
    },
    voucher=OBJECT,
    vouchers={"type": "array", "items": STRING},
)
_TIER = shape(
    "promotion_tier",
    {
        "id": STRING,
        "created_at": STRING,
        "updated_at": TEXT,
        "name": STRING,
        "banner": TEXT,
        "action": MAYBE_OBJECT,
        "metadata": MAYBE_OBJECT,
        "hierarchy": COUNT,
        "promotion_id": STRING,
        "campaign": OBJECT,
        "campaign_id": STRING,
        "active": BOOLEAN,
        "start_date": TEXT,
        "expiration_date": TEXT,
        "summary": OBJECT,
        "validation_rule_assignments": OBJECT,
    },
)
_EARNING_RULE = shape(
    "earning_rule",
    {
        "id": STRING,
        "created_at": STRING,
        "updated_at": TEXT,
        "event": TEXT,
        "custom_event": OBJECT,
        "loyalty": OBJECT,
        "source": OBJECT,
        "active": BOOLEAN,
        "metadata": MAYBE_OBJECT,
    },
)
_TRANSACTION = shape(
    "loyalty_transaction",
    {
        "id": STRING,
        "voucher_id": STRING,
        "campaign_id": STRING,
        "type": STRING,
        "details": OBJECT,
        "created_at": STRING,
    },
)
_CONVERSION = shape(
    "referral_conversion",
    {
        "id": STRING,
        "campaign_id": STRING,
        "voucher_id": TEXT,
        "code": STRING,
        "referrer_id": TEXT,
        "referee_id": STRING,
        "event_id": TEXT,
        "created_at": STRING,
    },
)
_OUTCOME = shape(
    "distribution_outcome",
    {
        "id": STRING,
        "distribution_id": STRING,
        "event_id": STRING,
        "customer_id": TEXT,
        "campaign_id": TEXT,
        "result": STRING,
        "details": ANY,
        "created_at": STRING,
    },
)
_ASYNC_ACTION = shape(
    "async_action",
    {
        "id": STRING,
        "type": STRING,
        "status": STRING,
        "operation_status": STRING,
        "created_at": STRING,
        "updated_at": TEXT,
        "request_id": TEXT,
        "processing_time": COUNT,
        "progress": INTEGER,
        "result": ANY,
    },
)

COMPONENTS: dict[str, JSON] = {
    "Health": shape(None, {"status": {"const": "ok"}}),
    "Ready": shape(None, {"status": {"const": "ready"}}),
    "NotReady": shape(None, {"status": {"const": "not_ready"}, "reason": {"type": "string"}}),
    "Customer": _CUSTOMER,
    "CustomerList": listing("customers", "Customer"),
    "TrackedEvent": _TRACKED_EVENT,
    "Event": _EVENT,
    "EventList": listing("events", "Event"),
    "BulkResults": _BULK,
    "EventSchema": _EVENT_SCHEMA,
    "EventSchemaList": listing("data", "EventSchema"),
    "Project": shape("project", _PROJECT_FIELDS),
    "NewProject": shape("project", {**_PROJECT_FIELDS, "credentials": ref("Credentials")}),
    "Credentials": _CREDENTIALS,
    "ProjectList": listing("data", "Project"),
    "WebhookSecret": _WEBHOOK_SECRET,
    "VoucherifySecret": _VOUCHERIFY_SECRET,
    "Channel": _CHANNEL,
    "Distribution": _DISTRIBUTION,
    "DistributionList": listing("distributions", "Distribution"),
    "Replay": _REPLAY,
    "Preview": _PREVIEW,
    "Simulation": _SIMULATION,
    "Attempt": _ATTEMPT,
    "Delivery": _DELIVERY,
    "DeliveryList": listing("deliveries", "Delivery"),
    "Campaign": _CAMPAIGN,
    "CampaignList": listing("campaigns", "Campaign"),
    "AsyncActionId": shape(None, {"async_action_id": STRING}),
    "Voucher": _VOUCHER,
    "VoucherList": listing("vouchers", "Voucher"),
    "Publication": _PUBLICATION,
    "PublicationList": listing("publications", "Publication"),
    "PromotionTier": _TIER,
    "PromotionTierList": listing("tiers", "PromotionTier"),
    "EarningRule": _EARNING_RULE,
    "EarningRules": {"type": "array", "items": ref("EarningRule")},
    "EarningRuleList": listing("data", "EarningRule"),
    "LoyaltyTransactionList": listing("data", "LoyaltyTransaction"),
    "LoyaltyTransaction": _TRANSACTION,
    "ReferralConversion": _CONVERSION,
    "ReferralConversionList": listing("conversions", "ReferralConversion"),
    "DistributionOutcome": _OUTCOME,
    "DistributionOutcomeList": listing("outcomes", "DistributionOutcome"),
    "AsyncAction": _ASYNC_ACTION,
    "AsyncActionList": listing("async_actions", "AsyncAction"),
}

_P = "/management/v1/projects"
_SCHEMAS = f"{_P}/{{projectId}}/custom-event-schemas"
_SECRET = f"{_P}/{{projectId}}/voucherify-secret"
_D = "/v1/distributions"
_C = "/v1/campaigns"
_T = "/v1/promotions/tiers"
_RULES = "/v1/loyalties/{campaignId}/earning-rules"

# The operations whose 200 is not JSON: its media type.
STREAMS: dict[tuple[str, str], str] = {
    ("get", "/metrics"): "text/plain",
    ("get", "/v1/distributions/{distributionId}/stream"): "text/event-stream",
}
SUCCESSES: dict[tuple[str, str], list[Success]] = {
    ("get", "/health"): [(200, "Health")],
    ("get", "/ready"): [(200, "Ready")],
    ("post", "/v1/events"): [(200, "TrackedEvent")],
    ("get", "/v1/events"): [(200, "EventList")],
    ("post", "/v1/events/bulk"): [(200, "BulkResults")],
    ("post", "/v1/customers"): [(200, "Customer")],
    ("get", "/v1/customers"): [(200, "CustomerList")],
    ("get", "/v1/customers/{customerId}"): [(200, "Customer")],
    ("put", "/v1/customers/{customerId}"): [(200, "Customer")],
    ("delete", "/v1/customers/{customerId}"): [(204, None)],
    ("post", _SCHEMAS): [(200, "EventSchema")],
    ("get", _SCHEMAS): [(200, "EventSchemaList")],
    ("get", f"{_SCHEMAS}/{{schemaId}}"): [(200, "EventSchema")],
    ("put", f"{_SCHEMAS}/{{schemaId}}"): [(200, "EventSchema")],
    ("delete", f"{_SCHEMAS}/{{schemaId}}"): [(204, None)],
    ("get", _P): [(200, "ProjectList")],
    ("post", _P): [(200, "NewProject")],
    ("get", f"{_P}/{{projectId}}"): [(200, "Project")],
    ("post", f"{_P}/{{projectId}}/webhook-secret/rotate"): [(200, "WebhookSecret")],
    ("put", _SECRET): [(200, "VoucherifySecret")],
    ("post", f"{_SECRET}/stage"): [(200, "VoucherifySecret")],
    ("post", f"{_SECRET}/switch"): [(200, "VoucherifySecret")],
    ("post", _D): [(200, "Distribution")],
    ("get", _D): [(200, "DistributionList")],
    ("get", f"{_D}/{{distributionId}}"): [(200, "Distribution")],
    ("put", f"{_D}/{{distributionId}}"): [(200, "Distribution")],
    ("delete", f"{_D}/{{distributionId}}"): [(204, None)],
    ("post", f"{_D}/{{distributionId}}/pause"): [(200, "Distribution")],
    ("post", f"{_D}/{{distributionId}}/resume"): [(200, "Distribution")],
    ("post", f"{_D}/{{distributionId}}/replay"): [(200, "Replay")],
    ("post", f"{_D}/preview"): [(200, "Preview")],
    ("post", f"{_D}/{{distributionId}}/preview"): [(200, "Preview")],
    ("post", f"{_D}/simulate"): [(200, "Simulation")],
    ("post", f"{_D}/{{distributionId}}/simulate"): [(200, "Simulation")],
    ("get", "/v1/deliveries"): [(200, "DeliveryList")],
    ("get", "/v1/deliveries/{deliveryId}"): [(200, "Delivery")],
    ("post", "/v1/deliveries/{deliveryId}/resend"): [(200, "Delivery")],
    ("post", _C): [(200, "Campaign")],
    ("get", _C): [(200, "CampaignList")],
    ("get", f"{_C}/{{campaignId}}"): [(200, "Campaign")],
    ("put", f"{_C}/{{campaignId}}"): [(200, "Campaign")],
    ("delete", f"{_C}/{{campaignId}}"): [(202, "AsyncActionId")],
    ("post", f"{_C}/{{campaignId}}/enable"): [(200, "Campaign")],
    ("post", f"{_C}/{{campaignId}}/disable"): [(200, "Campaign")],
    ("post", f"{_C}/{{campaignId}}/vouchers"): [(200, "Voucher"), (202, "AsyncActionId")],
    ("post", f"{_C}/{{campaignId}}/vouchers/{{code}}"): [(200, "Voucher")],
    ("get", "/v1/vouchers"): [(200, "VoucherList")],
    ("get", "/v1/vouchers/{code}"): [(200, "Voucher")],
    ("get", "/v1/vouchers/{code}/transactions"): [(200, "LoyaltyTransactionList")],
    ("post", "/v1/publications"): [(200, "Publication")],
    ("get", "/v1/publications"): [(200, "PublicationList")],
    ("get", _T): [(200, "PromotionTierList")],
    ("get", f"{_T}/{{tierId}}"): [(200, "PromotionTier")],
    ("put", f"{_T}/{{tierId}}"): [(200, "PromotionTier")],
    ("delete", f"{_T}/{{tierId}}"): [(204, None)],
    ("post", f"{_T}/{{tierId}}/enable"): [(200, "PromotionTier")],
    ("post", f"{_T}/{{tierId}}/disable"): [(200, "PromotionTier")],
    ("get", "/v1/promotions/{campaignId}/tiers"): [(200, "PromotionTierList")],
    ("post", "/v1/promotions/{campaignId}/tiers"): [(200, "PromotionTier")],
    ("post", _RULES): [(200, "EarningRules")],
    ("get", _RULES): [(200, "EarningRuleList")],
    ("get", f"{_RULES}/{{ruleId}}"): [(200, "EarningRule")],
    ("delete", f"{_RULES}/{{ruleId}}"): [(204, None)],
    ("get", "/v1/distribution-outcomes"): [(200, "DistributionOutcomeList")],
    ("get", "/v1/referral-conversions"): [(200, "ReferralConversionList")],
    ("get", "/v1/async-actions"): [(200, "AsyncActionList")],
    ("get", "/v1/async-actions/{asyncActionId}"): [(200, "AsyncAction")],
}
