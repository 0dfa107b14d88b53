"""The commands that talk to a running server over its HTTP API with a project's app keys:
``sendout listen`` (follow a distribution's webhooks) and ``sendout events send`` (track a
test event)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

import orjson
import typer

from sendout.cli.app import DEFAULT_URL, AppId, AppToken, ServerUrl, app, fail

__all__ = ["events_app", "listen", "send_event"]

events_app = typer.Typer(help="Track custom events through a running server.", no_args_is_help=True)
app.add_typer(events_app, name="events")

_TIMEOUT_SECONDS = 30


def _keys(app_id: str | None, app_token: str | None) -> dict[str, str]:
    if not app_id or not app_token:
        fail(
            "--app-id and --app-token (or SENDOUT_APP_ID and SENDOUT_APP_TOKEN) are needed:"
            " the keys `sendout serve` printed when it made them, or those set in its environment"
        )
    return {"X-App-Id": app_id, "X-App-Token": app_token}


@app.command()
def listen(
    distribution: Annotated[str, typer.Option(help="The distribution to follow (distr_…)")],
    forward_to: Annotated[
        str,
        typer.Option(help="Local URL each webhook is posted to, e.g. http://127.0.0.1:3000/hooks"),
    ],
    url: ServerUrl = DEFAULT_URL,
    app_id: AppId = None,
    app_token: AppToken = None,
    fail_with: Annotated[
        int | None,
        typer.Option(help="Count each local answer as this status and send the webhook again"),
    ] = None,
) -> None:
    """Forward every webhook a distribution sends from now on to a local URL (a copy: the real
    channels are delivered as usual)."""
    from sendout.listen import Listen
    from sendout.listen import listen as follow

    keys = _keys(app_id, app_token)
    options = Listen(
        url, distribution, forward_to, keys["X-App-Id"], keys["X-App-Token"], fail_with
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(follow(options, lambda line: typer.echo(line)))


@events_app.command("send")
def send_event(
    name: Annotated[str, typer.Argument(help="The event name (its custom event schema's name)")],
    customer: Annotated[
        str, typer.Option(help="The customer's source_id (created when new)", show_default=False)
    ],
    metadata: Annotated[
        str | None,
        typer.Option(help='The event metadata as a JSON object, e.g. \'{"plan": "pro"}\''),
    ] = None,
    url: ServerUrl = DEFAULT_URL,
    app_id: AppId = None,
    app_token: AppToken = None,
) -> None:
    """Track one event (POST /v1/events) and print the server's answer; its webhooks then go
    out as for any event (`sendout deliveries` lists them)."""
    body: dict[str, Any] = {"event": name, "customer": {"source_id": customer}}
    if metadata is not None:
        body["metadata"] = _metadata(metadata)
    keys = _keys(app_id, app_token)
    status, answer = asyncio.run(_post(url, "/v1/events", body, keys))
    if status >= 400:
        fail(_refusal(status, answer), code=1)
    typer.echo(orjson.dumps(answer, option=orjson.OPT_INDENT_2))


def _metadata(text: str) -> dict[str, Any]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        fail(f"--metadata is not JSON: {exc}")
    if not isinstance(value, dict):
        fail('--metadata must be a JSON object, e.g. \'{"plan": "pro"}\'')
    return value


async def _post(base: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    import aiohttp  # here: the other commands start without it

    target = base.rstrip("/") + path
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=_TIMEOUT_SECONDS)) as session,
            session.post(
                target,
                data=orjson.dumps(body),
                headers={**headers, "Content-Type": "application/json"},
            ) as response,
        ):
            raw = await response.read()
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        fail(
            f"cannot reach {target}: {exc or type(exc).__name__} (is `sendout serve` running? --url or SENDOUT_URL)"
        )
    try:
        return response.status, orjson.loads(raw)
    except orjson.JSONDecodeError:
        return response.status, {"message": raw[:200].decode(errors="replace")}


def _refusal(status: int, answer: Any) -> str:
    """A Voucherify error object in one line: status, key, message, details."""
    if not isinstance(answer, dict):
        return f"{status} {answer!r}"
    parts = [str(p) for p in (answer.get("key"), answer.get("message"), answer.get("details")) if p]
    return f"{status} " + ": ".join(parts)
