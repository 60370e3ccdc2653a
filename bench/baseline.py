"""A bare aiohttp app: the floor every benchmark figure is compared against.

It does the least a server can do for the same work: read a webhook and answer 200; hand a
webhook to the sockets open for its conversation and, when told to, forward one message to the
Bot Connector; hold web sockets open and push one frame to all of them. No database, no
authentication, no timeline. Run it as ``python -m bench.baseline --port N [--connector URL]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import WSMsgType, web

Sockets = dict[int, set[web.WebSocketResponse]]
SOCKETS = web.AppKey("sockets", Sockets)
CONNECTOR = web.AppKey("connector", str)
HTTP = web.AppKey("http", aiohttp.ClientSession)


async def hook(request: web.Request) -> web.Response:
    """Read the webhook; route it to its conversation's sockets and the connector if asked."""
    raw = await request.read()
    sockets, connector = request.app[SOCKETS], request.app[CONNECTOR]
    if sockets or connector:
        payload: dict[str, Any] = json.loads(raw)
        conversation = int((payload.get("conversation") or {}).get("id") or 0)
        content = str(payload.get("content") or "")
        frame = json.dumps({"type": "item", "item": {"content": content}})
        for ws in [*sockets.get(conversation, ())]:
            await ws.send_str(frame)
        if connector:
            url = f"{connector}/v3/conversations/a:base-{conversation}/activities"
            body = {"type": "message", "text": content}
            async with request.app[HTTP].post(url, json=body) as answer:
                await answer.read()
    return web.json_response({"ok": True})


async def healthz(_request: web.Request) -> web.Response:
    """Answer while the process is up."""
    return web.json_response({"status": "ok"})


async def socket(request: web.Request) -> web.WebSocketResponse:
    """Hold a web socket open (for `?conversation=N`) until the client closes it."""
    conversation = int(request.query.get("conversation", "0"))
    ws = web.WebSocketResponse(heartbeat=None)
    await ws.prepare(request)
    registry = request.app[SOCKETS]
    registry[conversation].add(ws)
    await ws.send_str(json.dumps({"type": "hello"}))
    try:
        async for message in ws:
            if message.type is WSMsgType.ERROR:
                break
    finally:
        registry[conversation].discard(ws)
        if not registry[conversation]:
            del registry[conversation]
    return ws


async def broadcast(request: web.Request) -> web.Response:
    """Send the posted frame to every open socket, as a hub without a database would."""
    frame = await request.text()
    sockets = [ws for group in request.app[SOCKETS].values() for ws in group]
    await asyncio.gather(*(ws.send_str(frame) for ws in sockets), return_exceptions=True)
    return web.json_response({"sent": len(sockets)})


async def stats(request: web.Request) -> web.Response:
    """Report how many sockets are open."""
    return web.json_response({"sockets": sum(map(len, request.app[SOCKETS].values()))})


async def _resources(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession() as http:
        app[HTTP] = http
        yield
        for ws in [ws for group in app[SOCKETS].values() for ws in group]:
            await ws.close()


def create_baseline_app(connector: str = "") -> web.Application:
    """Build the baseline app; `connector` is a Bot Connector URL to forward replies to."""
    app = web.Application(client_max_size=2 * 1024 * 1024)
    sockets: Sockets = defaultdict(set)
    app[SOCKETS] = sockets
    app[CONNECTOR] = connector.rstrip("/")
    app.cleanup_ctx.append(_resources)
    app.router.add_post("/api/chatwoot/webhook", hook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/ws", socket)
    app.router.add_post("/broadcast", broadcast)
    app.router.add_get("/stats", stats)
    return app


def main() -> None:
    """Serve the baseline app on 127.0.0.1 until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connector", default="", help="Bot Connector URL to forward to")
    args = parser.parse_args()
    app = create_baseline_app(args.connector)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
