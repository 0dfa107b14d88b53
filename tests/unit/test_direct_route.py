"""The direct routes answer like routed ones: request ids, error objects, the 500 answer."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from sendout.api.direct import DirectRoutes
from sendout.api.errors import RequestIdMiddleware, install_error_handlers
from sendout.errors import InvalidInput

calls: list[str] = []


async def handler(request: Request) -> Response:
    what = (await request.body()).decode()
    calls.append(what)
    if what == "refuse":
        raise InvalidInput("refused on purpose", key="refused")
    if what == "crash":
        raise RuntimeError("a bug")
    return Response(b'{"ok": true}', media_type="application/json")


async def bulk_handler(request: Request) -> Response:
    calls.append("bulk " + (await request.body()).decode())
    return Response(b'{"bulk": true}', media_type="application/json")


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    routes = {("POST", "/v1/events"): handler, ("POST", "/v1/events/bulk"): bulk_handler}
    app.add_middleware(DirectRoutes, routes=routes)
    app.add_middleware(RequestIdMiddleware)

    @app.post("/v1/events")
    async def routed() -> dict[str, str]:  # only reached when the direct route is bypassed
        return {"routed": "yes"}

    @app.get("/v1/events/bulk")
    async def routed_get() -> dict[str, str]:  # another method of a direct path
        return {"routed": "get"}

    return app


async def post(path: str, body: str, root_path: str = "") -> httpx.Response:
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False, root_path=root_path)
    async with httpx.AsyncClient(transport=transport, base_url="http://sendout.test") as client:
        return await client.post(root_path + path, content=body)


async def test_the_handler_answers_with_a_request_id() -> None:
    calls.clear()
    answer = await post("/v1/events", "fine")
    assert answer.status_code == 200 and answer.json() == {"ok": True}
    assert answer.headers["x-request-id"].startswith("v-")
    assert calls == ["fine"]


async def test_a_refusal_is_the_voucherify_error_object() -> None:
    answer = await post("/v1/events", "refuse")
    body = answer.json()
    assert answer.status_code == 400 and body["key"] == "refused"
    assert body["request_id"] == answer.headers["x-request-id"]


async def test_a_bug_is_a_500_error_object_not_a_dropped_connection() -> None:
    answer = await post("/v1/events", "crash")
    body = answer.json()
    assert answer.status_code == 500 and body["key"] == "internal_error"
    assert body["request_id"] in body["details"]


async def test_other_paths_and_a_root_path_go_as_routed() -> None:
    calls.clear()
    assert (await post("/v1/events/", "x")).status_code in (307, 404)
    mounted = await post("/v1/events", "fine", root_path="/api")
    assert mounted.status_code == 200 and mounted.json() == {"ok": True}
    assert calls == ["fine"]


async def test_each_route_reaches_its_own_handler_and_other_methods_go_as_routed() -> None:
    calls.clear()
    answer = await post("/v1/events/bulk", "items")
    assert answer.status_code == 200 and answer.json() == {"bulk": True}
    assert answer.headers["x-request-id"].startswith("v-")
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://sendout.test") as client:
        assert (await client.get("/v1/events/bulk")).json() == {"routed": "get"}
    assert calls == ["bulk items"]
