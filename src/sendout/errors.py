"""The error tree. Every refusal carries Voucherify's error fields; the API only renders them."""

from __future__ import annotations

from typing import Any

__all__ = ["Conflict", "InvalidInput", "NotFound", "RateLimited", "SendoutError", "Unauthorized"]


class SendoutError(Exception):
    """A refusal with an HTTP status and a machine-readable ``key``."""

    status = 400
    key = "invalid_payload"
    message = "Invalid payload"

    def __init__(
        self,
        details: str,
        *,
        key: str | None = None,
        message: str | None = None,
        status: int | None = None,
        resource_id: str | None = None,
        resource_type: str | None = None,
    ) -> None:
        super().__init__(details)
        self.details = details
        if key is not None:
            self.key = key
        if message is not None:
            self.message = message
        if status is not None:
            self.status = status
        self.resource_id = resource_id
        self.resource_type = resource_type
        self.headers: dict[str, str] = {}

    def body(self, request_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.status,
            "key": self.key,
            "message": self.message,
            "details": self.details,
            "request_id": request_id,
        }
        if self.resource_id is not None:
            body["resource_id"] = self.resource_id
        if self.resource_type is not None:
            body["resource_type"] = self.resource_type
        return body


class InvalidInput(SendoutError):
    status = 400
    key = "invalid_payload"
    message = "Invalid payload"


class NotFound(SendoutError):
    status = 404
    key = "not_found"
    message = "Resource not found"

    def __init__(self, resource_type: str, resource_id: str) -> None:
        super().__init__(
            f"Cannot find {resource_type} with id {resource_id}",
            resource_id=resource_id,
            resource_type=resource_type,
        )


class Conflict(SendoutError):
    status = 409
    key = "duplicate_found"
    message = "Duplicated resource found"


class Unauthorized(SendoutError):
    status = 401
    key = "unauthorized"
    message = "Unauthorized"


class RateLimited(SendoutError):
    status = 429
    key = "too_many_requests"
    message = "Too many requests"

    def __init__(self, details: str, retry_after: str) -> None:
        super().__init__(details)
        self.headers["retry-after"] = retry_after
