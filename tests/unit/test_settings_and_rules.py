from __future__ import annotations

import pytest

from sendout.errors import InvalidInput
from sendout.jsonutil import dumps, strip_nulls
from sendout.matching.rules import check_channel, check_headers, check_url
from sendout.settings import Settings, SettingsError


def test_settings_from_env_and_overrides() -> None:
    s = Settings.from_env({"SENDOUT_PORT": "9000", "SENDOUT_RETRY_SCHEDULE": "1,2"}, host="0.0.0.0")
    assert s.port == 9000 and s.retry_schedule == (1.0, 2.0) and s.host == "0.0.0.0"
    assert Settings.from_env({}).database_url == "sqlite:///data/sendout.db"


@pytest.mark.parametrize(
    "env",
    [
        {"SENDOUT_PORT": "0"},
        {"SENDOUT_RETRY_SCHEDULE": "x"},
        {"SENDOUT_DATABASE_URL": "mysql://x"},
        {"SENDOUT_LOG_FORMAT": "xml"},
        {"SENDOUT_LEASE_SECONDS": "5"},
    ],
)
def test_bad_settings(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(env)


def test_strip_nulls_at_every_depth() -> None:
    assert strip_nulls({"a": None, "b": {"c": None, "d": [None, {"e": None}]}}) == {
        "b": {"d": [None, {}]}
    }


def test_dumps_is_compact_utf8() -> None:
    assert dumps({"a": "ż", "b": [1, 2]}) == '{"a":"ż","b":[1,2]}'.encode()


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/x?y=1",
        "http://127.0.0.1:8080/hook",
        "http://[::1]:8080/hook",
        "https://b\u00fccher.example/",
        "https://example.com./trailing-dot",
        f"https://{'a' * 63}.example.com/",
    ],
)
def test_good_urls(url: str) -> None:
    assert check_url(url, "c") == url


@pytest.mark.parametrize(
    "url", ["ftp://x", "https://", "//x", "https://x/#frag", " https://x", "https://x:0x/"]
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_url(url, "channels[0]")
    assert caught.value.key == "invalid_url"


@pytest.mark.parametrize(
    "url",
    [
        "http://\u00e4..com/",
        "http://a..com/",
        "http://.example.com/",
        f"http://{'a' * 64}.example.com/",
        f"http://\u00e4{'a' * 63}.example.com/",
    ],
)
def test_hosts_idna_cannot_encode_are_invalid_urls(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_url(url, "channels[0]")
    assert caught.value.key == "invalid_url"
    assert "channels[0].url has a host that is not a valid domain name" in caught.value.details


@pytest.mark.parametrize("value", ["a\x0bb", "a\x0cb", "a\x7fb", "a\x00b", "a\rb", "a\nb"])
def test_a_header_value_with_a_control_character_is_refused(value: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_headers({"x-team": value}, "channels[0]")
    assert refused.value.key == "invalid_header" and "control character" in refused.value.details


def test_a_header_value_may_hold_a_tab() -> None:
    assert check_headers({"x-team": "a\tb"}, "c") == {"x-team": "a\tb"}


@pytest.mark.parametrize("name", ["webhook-version", "Webhook-Anything", "x-voucherify-signature"])
def test_webhook_and_signature_headers_cannot_be_set(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_headers({name: "x"}, "channels[0]")
    assert "is set by sendout" in refused.value.details


def test_headers_are_lowercased_and_reserved_names_refused() -> None:
    assert check_headers({"X-Team": "growth"}, "c") == {"x-team": "growth"}
    with pytest.raises(InvalidInput):
        check_headers({"Webhook-Id": "x"}, "c")
    with pytest.raises(InvalidInput):
        check_channel(0, "email", "n", "https://x", {})
