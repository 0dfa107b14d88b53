"""Flask helper: a view decorator that verifies the request and passes the parsed webhook.

Needs ``pip install 'sendout-receiver[flask]'``; the core package never imports this module.
A forged or stale request is answered ``401``, a genuine one that is not a
``customer.custom_event`` webhook ``400``; neither reaches the view.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from flask import abort, request

from sendout_receiver.errors import InvalidPayload, WebhookVerificationError
from sendout_receiver.models import CustomerCustomEventWebhook
from sendout_receiver.parse import verify_and_parse
from sendout_receiver.verify import Scheme

__all__ = ["verified_webhook"]

P = ParamSpec("P")
R = TypeVar("R")
View = Callable[Concatenate[CustomerCustomEventWebhook, P], R]


def _webhook_of_request(secret: str, tolerance: int, scheme: Scheme) -> CustomerCustomEventWebhook:
    body = request.get_data(cache=True)
    headers = dict(request.headers.items())
    try:
        return verify_and_parse(body, headers, secret, tolerance=tolerance, scheme=scheme)
    except WebhookVerificationError as exc:
        abort(401, description=str(exc))
    except InvalidPayload as exc:
        abort(400, description=str(exc))


def verified_webhook(
    secret: str, *, tolerance: int = 300, scheme: Scheme = "auto"
) -> Callable[[View[P, R]], Callable[P, R]]:
    """``@verified_webhook(secret)`` under ``@app.post(...)``: the view gets the webhook first."""

    def decorate(view: View[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            return view(_webhook_of_request(secret, tolerance, scheme), *args, **kwargs)

        return wrapper

    return decorate
