"""The interactive docs work offline and can authenticate, on a real server of each backend:
``/docs`` and ``/redoc`` load only assets the server itself serves, and ``/openapi.json`` has
the two key pairs as security schemes, each operation naming its own, the error object on the
refusals it can answer, a JSON schema for every success and the bounds and choices of query
parameters; a 405 names the methods of its path in ``Allow``."""

from __future__ import annotations

import re

import httpx
import pytest

from support.server import ServerProcess

ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")
APP = [{"AppId": [], "AppToken": []}]
MANAGEMENT = [{"ManagementId": [], "ManagementToken": []}]


@pytest.mark.parametrize(("page", "marker"), [("/docs", "SwaggerUIBundle"), ("/redoc", "<redoc")])
def test_the_docs_pages_load_nothing_from_outside(
    server: ServerProcess, page: str, marker: str
) -> None:
    html = httpx.get(server.base_url + page)
    assert html.status_code == 200 and marker in html.text
    assets = ASSET.findall(html.text)
    assert assets, html.text
    for asset in assets:
        assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
        loaded = httpx.get(server.base_url + asset)
        assert loaded.status_code == 200 and len(loaded.content) > 100, asset
    assert "http://" not in html.text and "https://" not in html.text


def test_every_operation_says_which_keys_it_takes_and_how_it_refuses(
    server: ServerProcess,
) -> None:
    spec = httpx.get(server.base_url + "/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert {name: (s["in"], s["name"]) for name, s in schemes.items()} == {
        "AppId": ("header", "X-App-Id"),
        "AppToken": ("header", "X-App-Token"),
        "ManagementId": ("header", "X-Management-Id"),
        "ManagementToken": ("header", "X-Management-Token"),
    }
    error = "#/components/schemas/Error"
    assert set(spec["components"]["schemas"]["Error"]["required"]) == {
        "code",
        "key",
        "message",
        "details",
        "request_id",
    }
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert "422" not in operation["responses"], where
            if not path.startswith(("/v1/", "/management/")):
                assert "security" not in operation, where
                continue
            wanted = MANAGEMENT if path.startswith("/management/") else APP
            assert operation["security"] == wanted, where
            for code in ("400", "401"):
                content = operation["responses"][code]["content"]["application/json"]
                assert content["schema"]["$ref"] == error, where
            if "requestBody" in operation:
                assert {"413", "415"} <= set(operation["responses"]), where


def test_the_keys_an_operation_names_are_the_keys_it_takes(
    server: ServerProcess, api: httpx.Client, mgmt: httpx.Client
) -> None:
    # app keys do not open the management API, nor management keys the application API
    assert httpx.get(server.base_url + "/v1/events", headers=dict(mgmt.headers)).status_code == 401
    wrong = httpx.get(server.base_url + "/management/v1/projects", headers=dict(api.headers))
    assert wrong.status_code == 401 and wrong.json()["code"] == 401


def test_every_success_has_the_schema_of_what_it_answers(server: ServerProcess) -> None:
    spec = httpx.get(server.base_url + "/openapi.json").json()
    components = spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            successes = {c: r for c, r in operation["responses"].items() if c.startswith("2")}
            assert successes, where
            for code, response in successes.items():
                if code == "204":
                    assert "content" not in response, where
                    continue
                [(media, content)] = response["content"].items()
                if media != "application/json":
                    assert media in ("text/plain", "text/event-stream"), where
                    continue
                ref = content["schema"]["$ref"]
                assert ref.startswith("#/components/schemas/"), where
                assert components[ref.rsplit("/", 1)[1]]["type"] in ("object", "array"), where


def test_query_parameters_declare_the_bounds_and_choices_the_server_checks(
    server: ServerProcess, api: httpx.Client
) -> None:
    spec = httpx.get(server.base_url + "/openapi.json").json()
    deliveries = spec["paths"]["/v1/deliveries"]["get"]["parameters"]
    schemas = {p["name"]: p["schema"] for p in deliveries}
    assert schemas["status"]["enum"] == ["pending", "delivered", "failed", "canceled"]
    assert (schemas["limit"]["minimum"], schemas["limit"]["maximum"]) == (1, 100)
    assert (schemas["page"]["minimum"], schemas["page"]["maximum"]) == (1, 1000)
    customers = spec["paths"]["/v1/customers"]["get"]["parameters"]
    assert next(p for p in customers if p["name"] == "page")["schema"]["maximum"] == 99
    # and the server refuses what the document excludes
    assert api.get("/v1/deliveries", params={"status": "lost"}).status_code == 400
    assert api.get("/v1/deliveries", params={"limit": 101}).status_code == 400
    assert api.get("/v1/customers", params={"page": 100}).status_code == 400


def test_the_idempotency_header_is_declared_with_the_bounds_the_server_checks(
    server: ServerProcess, api: httpx.Client
) -> None:
    spec = httpx.get(server.base_url + "/openapi.json").json()
    [header] = spec["paths"]["/v1/events"]["post"]["parameters"]
    assert (header["name"], header["in"], header["required"]) == (
        "Idempotency-Key",
        "header",
        False,
    )
    assert (header["schema"]["minLength"], header["schema"]["maxLength"]) == (1, 255)
    body = {"event": "any", "customer": {"source_id": "c"}}
    too_long = api.post("/v1/events", json=body, headers={"Idempotency-Key": "k" * 256})
    assert too_long.status_code == 400 and too_long.json()["key"] == "invalid_idempotency_key"
    assert "parameters" not in spec["paths"]["/v1/events/bulk"]["post"]  # it takes no such header


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PATCH", "/v1/customers/cust_x", "DELETE, GET, PUT"),
        ("TRACE", "/v1/customers", "GET, POST"),
        ("DELETE", "/v1/events", "GET, POST"),
        ("OPTIONS", "/v1/distributions/preview", "POST"),
        ("PUT", "/health", "GET"),
    ],
)
def test_a_method_not_allowed_names_the_methods_of_its_path(
    api: httpx.Client, method: str, path: str, allowed: str
) -> None:
    answer = api.request(method, path)
    assert answer.status_code == 405
    assert answer.headers["allow"] == allowed
    body = answer.json()
    assert (body["code"], body["key"]) == (405, "method_not_allowed")
    assert body["request_id"] == answer.headers["x-request-id"]
