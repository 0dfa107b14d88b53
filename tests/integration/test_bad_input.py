"""Every refused request: the exact status and key, Voucherify's error object, nothing stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import unique

JSON = {"content-type": "application/json"}


def assert_error(response: httpx.Response, status: int, key: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = dict(response.json())
    assert body["code"] == status
    assert body["key"] == key, body
    assert body["message"] and body["details"]
    assert body["request_id"].startswith("v-")
    assert response.headers["x-request-id"] == body["request_id"]
    return body


@pytest.fixture
def event_name(make_schema) -> str:
    schema = make_schema(
        {
            "plan": {"type": "string", "optional": False},
            "seats": {"type": "number", "optional": True},
            "trial_ends": {"type": "date", "optional": True},
            "paid_at": {"type": "datetime", "optional": True},
            "annual": {"type": "boolean", "optional": True},
        }
    )
    return str(schema["name"])


def event_body(event_name: str, source_id: str) -> dict[str, Any]:
    """A valid event for the ``event_name`` fixture's schema."""
    return {"event": event_name, "customer": {"source_id": source_id}, "metadata": {"plan": "pro"}}


def assert_nothing_tracked(api: httpx.Client, event_name: str, source_id: str) -> None:
    assert api.get("/v1/events", params={"event": event_name}).json()["total"] == 0
    assert api.get(f"/v1/customers/{source_id}").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "key"),
    [
        (b'{"event": "x", "customer": ', 400, "invalid_json"),
        (b"", 400, "invalid_json"),
        (b'["an", "array"]', 400, "invalid_payload"),
    ],
)
def test_unparseable_bodies(api: httpx.Client, body: bytes, status: int, key: str) -> None:
    assert_error(api.post("/v1/events", content=body, headers=JSON), status, key)


def test_wrong_content_type(api: httpx.Client, event_name: str) -> None:
    source_id = unique("c")
    body = f'{{"event": "{event_name}", "customer": {{"source_id": "{source_id}"}}, "metadata": {{"plan": "a"}}}}'
    response = api.post("/v1/events", content=body, headers={"content-type": "text/plain"})
    assert_error(response, 415, "unsupported_media_type")
    form = api.post("/v1/events", data={"event": event_name})
    assert_error(form, 415, "unsupported_media_type")
    assert_nothing_tracked(api, event_name, source_id)


def test_body_over_the_size_limit(api: httpx.Client, event_name: str) -> None:
    source_id = unique("c")
    body = {
        "event": event_name,
        "customer": {"source_id": source_id},
        "metadata": {"plan": "x" * (1024 * 1024 + 10)},
    }
    assert_error(api.post("/v1/events", json=body), 413, "payload_too_large")
    assert_nothing_tracked(api, event_name, source_id)


@pytest.mark.parametrize(
    ("change", "status", "key"),
    [
        ({"event": None}, 400, "missing_event"),
        ({"customer": None}, 400, "missing_customer"),
        ({"customer": {"name": "no identifier"}}, 400, "missing_customer_identifier"),
        ({"customer": "cust_as_a_string"}, 400, "invalid_payload"),
        ({"event": "x" * 301}, 400, "invalid_payload"),
        ({"metadata": ["not", "an", "object"]}, 400, "invalid_payload"),
        ({"metadata": {"plan": 42}}, 400, "metadata_validation_failed"),
        ({"metadata": {}}, 400, "metadata_validation_failed"),
        ({"metadata": {"plan": "a", "seats": "many"}}, 400, "metadata_validation_failed"),
        ({"metadata": {"plan": "a", "seats": True}}, 400, "metadata_validation_failed"),
        ({"metadata": {"plan": "a", "trial_ends": "next week"}}, 400, "metadata_validation_failed"),
        (
            {"metadata": {"plan": "a", "paid_at": "2024-13-45T00:00:00Z"}},
            400,
            "metadata_validation_failed",
        ),
        ({"metadata": {"plan": "a", "annual": "yes"}}, 400, "metadata_validation_failed"),
    ],
)
def test_bad_event_bodies(
    api: httpx.Client, event_name: str, change: dict[str, Any], status: int, key: str
) -> None:
    source_id = unique("c")
    body = event_body(event_name, source_id)
    for field, value in change.items():
        if value is None:
            del body[field]
        else:
            body[field] = value
    assert_error(api.post("/v1/events", json=body), status, key)
    assert_nothing_tracked(api, event_name, source_id)


@pytest.mark.parametrize(
    "where",
    [
        ["metadata", "plan"],  # a value in metadata
        ["customer", "name"],  # a customer field
        ["customer", "metadata", "note"],  # deeper
    ],
)
def test_nul_characters_are_refused_on_every_backend(
    api: httpx.Client, event_name: str, where: list[str]
) -> None:
    """SQLite could store NUL, PostgreSQL's text cannot: both refuse it before storing."""
    source_id = unique("c")
    body = event_body(event_name, source_id)
    holder = body
    for part in where[:-1]:
        holder = holder.setdefault(part, {})
    holder[where[-1]] = "a\u0000b"
    error = assert_error(api.post("/v1/events", json=body), 400, "invalid_payload")
    assert "NUL" in error["details"]
    assert_nothing_tracked(api, event_name, source_id)
    key_with_nul = {**event_body(event_name, source_id), "metadata": {"plan": "a", "k\u0000": "v"}}
    assert_error(api.post("/v1/events", json=key_with_nul), 400, "invalid_payload")
    # The text \\u0000 (an escaped backslash, then "u0000") is no NUL: it is stored as sent.
    literal = {**body, "metadata": {"plan": "a\\u0000b"}, "customer": {"source_id": source_id}}
    assert api.post("/v1/events", json=literal).status_code == 200
    stored = api.get("/v1/events", params={"event": event_name}).json()["events"]
    assert [e["metadata"]["plan"] for e in stored] == ["a\\u0000b"]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/v1/customers/a%00b"),
        ("DELETE", "/v1/customers/%00"),
        ("GET", "/v1/events?customer=a%00"),
        ("GET", "/v1/vouchers/x%00y"),
    ],
)
def test_nul_characters_in_urls_are_refused_on_every_backend(
    api: httpx.Client, method: str, url: str
) -> None:
    assert_error(api.request(method, url), 400, "invalid_url")


def test_bodies_nested_too_deep_are_refused(api: httpx.Client, event_name: str) -> None:
    source_id = unique("c")
    deep: Any = "bottom"
    for _ in range(300):  # parses, but could not be written back out as JSON
        deep = {"a": deep}
    body = {**event_body(event_name, source_id), "metadata": {"plan": "pro", "deep": deep}}
    error = assert_error(api.post("/v1/events", json=body), 400, "invalid_payload")
    assert "deeper than 64" in error["details"]
    assert_nothing_tracked(api, event_name, source_id)
    nested = [[[["fine"]]]]  # shallow nesting is still welcome
    body = {**event_body(event_name, source_id), "metadata": {"plan": "pro"}, "referral": None}
    body["customer"] = {"source_id": source_id, "metadata": {"tags": nested}}
    assert api.post("/v1/events", json=body).status_code == 200


def test_unknown_event_name(api: httpx.Client) -> None:
    name, source_id = unique("never_defined"), unique("c")
    error = assert_error(
        api.post("/v1/events", json={"event": name, "customer": {"source_id": source_id}}),
        400,
        "unknown_event",
    )
    assert name in error["details"]
    assert_nothing_tracked(api, name, source_id)


def test_unknown_customer_id_in_an_event(api: httpx.Client, event_name: str) -> None:
    body = {
        "event": event_name,
        "customer": {"id": "cust_unknown000000000000000"},
        "metadata": {"plan": "a"},
    }
    error = assert_error(api.post("/v1/events", json=body), 404, "not_found")
    assert error["resource_type"] == "customer"
    assert api.get("/v1/events", params={"event": event_name}).json()["total"] == 0


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_customer_in_a_path(api: httpx.Client, method: str) -> None:
    response = api.request(
        method, "/v1/customers/cust_nobody", json={"name": "x"} if method == "PUT" else None
    )
    error = assert_error(response, 404, "not_found")
    assert error["resource_id"] == "cust_nobody" and error["resource_type"] == "customer"


def test_customer_with_bad_fields_is_not_created(api: httpx.Client) -> None:
    source_id = unique("c")
    response = api.post("/v1/customers", json={"source_id": source_id, "birthdate": "not-a-date"})
    assert_error(response, 400, "invalid_payload")
    assert api.get(f"/v1/customers/{source_id}").status_code == 404


def distribution_body(event: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "bad",
        "trigger": {"type": "customer.custom_event", "event": event},
        "action": {"type": "plain_message"},
        "channels": [{"type": "webhook", "event_name": "x", "url": "https://example.com/hook"}],
    }
    body.update(changes)
    return body


def channel(**changes: Any) -> list[dict[str, Any]]:
    return [{"type": "webhook", "event_name": "x", "url": "https://example.com/hook", **changes}]


@pytest.mark.parametrize(
    ("changes", "status", "key"),
    [
        ({"channels": channel(url="ftp://example.com/hook")}, 400, "invalid_url"),
        ({"channels": channel(url="not a url")}, 400, "invalid_url"),
        ({"channels": channel(url="https://")}, 400, "invalid_url"),
        ({"channels": channel(url="http://example.com:99999/")}, 400, "invalid_url"),
        ({"channels": channel(type="sms")}, 400, "invalid_channel"),
        ({"channels": channel(headers={"webhook-signature": "v1,forged"})}, 400, "invalid_header"),
        ({"channels": channel(headers={"Content-Length": "1"})}, 400, "invalid_header"),
        ({"channels": channel(headers={"bad header": "x"})}, 400, "invalid_header"),
        ({"channels": channel(headers={"x-ok": "line\r\nbreak"})}, 400, "invalid_header"),
        ({"channels": []}, 400, "invalid_payload"),
        ({"trigger": {"type": "customer.order.paid", "event": "x"}}, 400, "invalid_trigger"),
        ({"action": {"type": "send_fax"}}, 400, "invalid_action"),
        ({"status": "MAYBE"}, 400, "invalid_status"),
        ({"name": None}, 400, "missing_name"),
    ],
)
def test_bad_distributions(
    api: httpx.Client, event_name: str, changes: dict[str, Any], status: int, key: str
) -> None:
    before = api.get("/v1/distributions").json()["total"]
    body = distribution_body(event_name, **changes)
    body = {k: v for k, v in body.items() if v is not None}
    assert_error(api.post("/v1/distributions", json=body), status, key)
    assert api.get("/v1/distributions").json()["total"] == before


# The test server opens 127.0.0.0/8 (as a plain 127.0.0.1 is allowed there, so are the forms
# carrying it): these carry addresses it does not open. test_strict_server has the loopback ones.
@pytest.mark.parametrize(
    "host",
    [
        "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
        "[64:ff9b:1::a00:1]",  # local-use NAT64 of 10.0.0.1
        "[2002:a9fe:a9fe::]",  # 6to4 of 169.254.169.254
        "[::a9fe:a9fe]",  # IPv4-compatible
        "[::169.254.169.254]",
        "[::ffff:0:a00:1]",  # IPv4-translated 10.0.0.1
        "[2001:0:a00:1:8000:63bf:3fff:fdd2]",  # Teredo, server 10.0.0.1
    ],
)
def test_ipv6_forms_carrying_a_private_ipv4_are_unsafe(
    api: httpx.Client, event_name: str, host: str
) -> None:
    before = api.get("/v1/distributions").json()["total"]
    url = f"http://{host}/hook"
    body = assert_error(
        api.post(
            "/v1/distributions", json=distribution_body(event_name, channels=channel(url=url))
        ),
        400,
        "unsafe_url",
    )
    assert body["details"].startswith("channels[0].url: ")
    assert api.get("/v1/distributions").json()["total"] == before


@pytest.mark.parametrize(
    "url",
    [
        "http://\u00e4..com/",
        "http://a..com/",
        f"http://{'a' * 64}.example.com/",
        f"https://\u00e4{'a' * 63}.example.com/hook",
    ],
)
def test_hosts_idna_cannot_encode_are_invalid(api: httpx.Client, event_name: str, url: str) -> None:
    before = api.get("/v1/distributions").json()["total"]
    bad = channel(url=url)
    body = assert_error(
        api.post("/v1/distributions", json=distribution_body(event_name, channels=bad)),
        400,
        "invalid_url",
    )
    assert body["details"].startswith("channels[0].url "), body
    assert api.get("/v1/distributions").json()["total"] == before
    created = api.post("/v1/distributions", json=distribution_body(event_name)).json()
    response = api.put(f"/v1/distributions/{created['id']}", json={"channels": bad})
    body = assert_error(response, 400, "invalid_url")
    assert body["details"].startswith("channels[0].url "), body
    assert api.get(f"/v1/distributions/{created['id']}").json() == created


def test_distribution_for_an_unknown_event(api: httpx.Client) -> None:
    before = api.get("/v1/distributions").json()["total"]
    assert_error(
        api.post("/v1/distributions", json=distribution_body(unique("nope"))), 400, "unknown_event"
    )
    assert api.get("/v1/distributions").json()["total"] == before


def test_bad_update_leaves_the_distribution_as_it_was(api: httpx.Client, event_name: str) -> None:
    created = api.post("/v1/distributions", json=distribution_body(event_name)).json()
    response = api.put(
        f"/v1/distributions/{created['id']}",
        json={"name": "renamed", "channels": channel(url="gopher://x")},
    )
    assert_error(response, 400, "invalid_url")
    assert api.get(f"/v1/distributions/{created['id']}").json() == created
    assert_error(api.get("/v1/distributions/distr_nope"), 404, "not_found")
    assert_error(api.post("/v1/distributions/distr_nope/pause"), 404, "not_found")


def test_bad_custom_event_schemas(mgmt: httpx.Client, project_id: str) -> None:
    url = f"/management/v1/projects/{project_id}/custom-event-schemas"
    before = mgmt.get(url).json()["total"]
    bad_type = {
        "name": unique("s"),
        "schema": {"properties": {"x": {"type": "geopoint", "optional": True}}},
    }
    assert_error(mgmt.post(url, json=bad_type), 400, "invalid_schema")
    assert_error(mgmt.post(url, json={"name": unique("s")}), 400, "missing_schema")
    name = unique("s")
    assert mgmt.post(url, json={"name": name, "schema": {"properties": {}}}).status_code == 200
    error = assert_error(
        mgmt.post(url, json={"name": name, "schema": {"properties": {}}}), 409, "duplicate_found"
    )
    assert error["resource_type"] == "custom_event_schema"
    assert mgmt.get(url).json()["total"] == before + 1
    assert_error(mgmt.get(f"{url}/ms_nope"), 404, "not_found")
    assert_error(
        mgmt.get("/management/v1/projects/proj_nope/custom-event-schemas"), 404, "not_found"
    )


def test_credentials(server, api: httpx.Client) -> None:
    bare = httpx.Client(base_url=server.base_url)
    assert_error(bare.get("/v1/customers"), 401, "unauthorized")
    assert_error(
        bare.get("/v1/customers", headers={"X-App-Id": "test-app-id", "X-App-Token": "wrong"}),
        401,
        "unauthorized",
    )
    assert_error(
        bare.get("/v1/customers", headers={"X-App-Id": "nobody", "X-App-Token": "x"}),
        401,
        "unauthorized",
    )
    for path in ("/v1/events", "/v1/events/bulk"):  # past the router: they check keys themselves
        wrong = {"X-App-Id": "test-app-id", "X-App-Token": "wrong"}
        assert_error(bare.post(path, json={}, headers=wrong), 401, "unauthorized")
        assert_error(bare.post(path, content=b"[", headers=wrong), 401, "unauthorized")
    assert_error(bare.get("/management/v1/projects"), 401, "unauthorized")
    app_keys = {"X-Management-Id": "test-app-id", "X-Management-Token": "test-app-token"}
    assert_error(bare.get("/management/v1/projects", headers=app_keys), 401, "unauthorized")
    bare.close()


def test_query_parameters_and_routes(api: httpx.Client) -> None:
    assert_error(api.get("/v1/customers", params={"limit": 0}), 400, "invalid_query_params")
    assert_error(api.get("/v1/customers", params={"limit": "ten"}), 400, "invalid_query_params")
    assert_error(api.get("/v1/customers", params={"page": 100}), 400, "page_over_limit")
    assert_error(
        api.get("/v1/customers", params={"order": "shoe_size"}), 400, "invalid_query_params"
    )
    assert_error(api.get("/v1/deliveries", params={"status": "lost"}), 400, "invalid_query_params")
    assert_error(api.get("/v1/nothing-here"), 404, "not_found")
    assert_error(api.patch("/v1/events", json={}), 405, "method_not_allowed")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
event_like = st.fixed_dictionaries(
    {},
    optional={
        "event": json_values,
        "customer": json_values
        | st.fixed_dictionaries({}, optional={"id": json_values, "source_id": json_values}),
        "metadata": json_values,
        "referral": json_values,
        "loyalty": json_values,
    },
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=event_like | json_values)
def test_no_input_makes_the_server_fail(api: httpx.Client, body: Any) -> None:
    response = api.post("/v1/events", json=body)
    assert response.status_code < 500, response.text
    assert "key" in response.json() or response.status_code == 200
