"""FastAPI helper: a dependency that verifies the request and hands the route a parsed webhook.

Needs ``pip install 'sendout-receiver[fastapi]'``; the core package never imports this module.
A forged or stale request is answered ``401``, a genuine one that is not a
``customer.custom_event`` webhook ``400``; neither reaches the route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request

from sendout_receiver.errors import InvalidPayload, WebhookVerificationError
from sendout_receiver.models import CustomerCustomEventWebhook
from sendout_receiver.parse import verify_and_parse
from sendout_receiver.verify import Scheme

__all__ = ["verified_webhook"]


def verified_webhook(
    secret: str, *, tolerance: int = 300, scheme: Scheme = "auto"
) -> Callable[[Request], Awaitable[CustomerCustomEventWebhook]]:
    """``Depends(verified_webhook(secret))``: the verified, parsed webhook of the request."""

    async def dependency(request: Request) -> CustomerCustomEventWebhook:
        body = await request.body()
        try:
            return verify_and_parse(
                body, request.headers, secret, tolerance=tolerance, scheme=scheme
            )
        except WebhookVerificationError as exc:
            raise HTTPException(status_code=401, detail=str(exc)) from exc
        except InvalidPayload as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc

    return dependency
