"""The Voucherify secret's life: set, staged, switched, and when it follows the webhook secret.
Pure.

``x-voucherify-signature`` carries one signature, so its receivers cannot be given two during a
rotation the way ``webhook-signature`` receivers are. Instead a new secret is staged first (the
receiver is taught to accept it as well), then signing switches to it in one step, then the
receiver forgets the old one. See docs/decisions/0006-staged-voucherify-secret-rotation.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from sendout.errors import Conflict
from sendout.records import Project

__all__ = [
    "VoucherifySecrets",
    "after_rotation",
    "on_start",
    "secrets_of",
    "stage",
    "switch",
    "use_now",
]


@dataclass(frozen=True, slots=True)
class VoucherifySecrets:
    current: str  # signs x-voucherify-signature now
    staged: str | None  # signs it after the next switch


def secrets_of(project: Project) -> VoucherifySecrets:
    return VoucherifySecrets(
        project.voucherify_secret or project.webhook_secret, project.staged_voucherify_secret
    )


def use_now(secret: str) -> VoucherifySecrets:
    """Sign with ``secret`` at once (first adoption, or revoking a leaked one); nothing staged."""
    return VoucherifySecrets(secret, None)


def stage(secrets: VoucherifySecrets, secret: str) -> VoucherifySecrets:
    """Keep signing with the current secret; ``secret`` signs after the next switch."""
    return VoucherifySecrets(secrets.current, secret)


def switch(secrets: VoucherifySecrets, project_id: str) -> VoucherifySecrets:
    """Sign with the staged secret from now on; Conflict if none is staged."""
    if secrets.staged is None:
        raise Conflict(
            f"Project {project_id} has no staged Voucherify secret: stage one first"
            " (POST …/voucherify-secret/stage) and teach your receivers to accept it",
            key="no_staged_voucherify_secret",
            message="No staged Voucherify secret",
            resource_id=project_id,
            resource_type="project",
        )
    return VoucherifySecrets(secrets.staged, None)


def on_start(
    secrets: VoucherifySecrets, given: str | None, old_webhook: str, new_webhook: str
) -> VoucherifySecrets:
    """At start: ``SENDOUT_VOUCHERIFY_SECRET`` (``given``) replaces the current secret, and is a
    switch when it is the staged one. Without it, a Voucherify secret that is the webhook
    secret follows that secret when ``SENDOUT_WEBHOOK_SECRET`` replaces it (as it always did)."""
    if given is not None:
        return VoucherifySecrets(given, None if secrets.staged == given else secrets.staged)
    if secrets.current == old_webhook and old_webhook != new_webhook:
        return VoucherifySecrets(new_webhook, secrets.staged)
    return secrets


def after_rotation(
    secrets: VoucherifySecrets, old_webhook: str, new_webhook: str, grace_seconds: float
) -> VoucherifySecrets:
    """Rotating the webhook secret leaves ``x-voucherify-signature`` alone (it rotates by
    stages), except a rotation without grace: that revokes the old webhook secret, so a
    Voucherify secret that is the same string is replaced by the new one too."""
    if grace_seconds <= 0 and secrets.current == old_webhook:
        return VoucherifySecrets(new_webhook, secrets.staged)
    return secrets
