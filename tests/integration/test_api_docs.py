"""The interactive docs work offline and can authenticate, on a real server of each backend:
``/docs`` and ``/redoc`` load only assets the server itself serves, and ``/openapi.json`` has
the two key pairs as security schemes, each operation naming its own, and the error object on
the refusals it can answer."""

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
