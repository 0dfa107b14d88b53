"""Signed sessions, CSRF tokens and typed times of the dashboard (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sendout.dashboard.pages import PageError
from sendout.dashboard.session import (
    Session,
    csrf_token,
    fingerprint,
    open_session,
    seal_session,
    valid_csrf,
)
from sendout.dashboard.times import form_time

KEY = "k" * 32


def test_a_sealed_session_opens_with_its_key_until_it_expires() -> None:
    session = Session("proj_1", fingerprint("app", "tok"), 1_000)
    sealed = seal_session(KEY, session)
    assert open_session(KEY, sealed, 999) == session
    assert open_session(KEY, sealed, 1_000) is None
    assert open_session("another key", sealed, 0) is None


@pytest.mark.parametrize("value", ["", ".", "abc", "abc.def", "e30.xyz"])
def test_malformed_or_forged_sessions_open_to_nothing(value: str) -> None:
    assert open_session(KEY, value, 0) is None


def test_a_forged_payload_with_a_valid_shape_is_refused() -> None:
    sealed = seal_session(KEY, Session("proj_1", "f", 10))
    other = seal_session(KEY, Session("proj_2", "f", 10))
    assert open_session(KEY, other.split(".")[0] + "." + sealed.split(".")[1], 0) is None


def test_fingerprints_change_with_the_keys() -> None:
    assert fingerprint("app", "tok") != fingerprint("app", "tok2")
    assert "tok" not in fingerprint("app", "tok")


def test_a_csrf_token_belongs_to_its_nonce_only() -> None:
    token = csrf_token(KEY, "nonce-a")
    assert valid_csrf(KEY, "nonce-a", token)
    assert not valid_csrf(KEY, "nonce-b", token)
    assert not valid_csrf(KEY, None, token)
    assert not valid_csrf(KEY, "nonce-a", None)


def test_typed_local_times_are_read_in_the_browser_s_offset() -> None:
    # getTimezoneOffset() is -120 at UTC+2: 12:00 there is 10:00 UTC.
    assert form_time("2026-05-01T12:00", "-120", "Since") == datetime(2026, 5, 1, 10, tzinfo=UTC)
    assert form_time("2026-05-01T12:00", None, "Since") == datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert form_time("2026-05-01T12:00:00+01:00", "-120", "Since") == datetime(
        2026, 5, 1, 11, tzinfo=UTC
    )
    assert form_time("", "0", "Since") is None
    with pytest.raises(PageError):
        form_time("yesterday", "0", "Since")
