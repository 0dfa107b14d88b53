"""sendout-receiver: verify and parse sendout's (and Voucherify's) ``customer.custom_event``
webhooks. The core needs only pydantic; ``sendout_receiver.fastapi`` and
``sendout_receiver.flask`` are the framework helpers, imported only when used."""

from sendout_receiver.errors import (
    InvalidPayload,
    InvalidSignature,
    MissingHeader,
    ReceiverError,
    TimestampOutOfRange,
    WebhookVerificationError,
)
from sendout_receiver.models import CustomerCustomEventData, CustomerCustomEventWebhook
from sendout_receiver.parse import parse, parse_data, verify_and_parse
from sendout_receiver.verify import verify

__all__ = [
    "CustomerCustomEventData",
    "CustomerCustomEventWebhook",
    "InvalidPayload",
    "InvalidSignature",
    "MissingHeader",
    "ReceiverError",
    "TimestampOutOfRange",
    "WebhookVerificationError",
    "parse",
    "parse_data",
    "verify",
    "verify_and_parse",
]

__version__ = "0.1.0"
