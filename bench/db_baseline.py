"""A database-bound baseline: the least a webhook receiver that stores what it accepts can do.

A bare aiohttp app that verifies the signature (HMAC over ``timestamp.body``), reads the
message id, and does one ``INSERT … ON CONFLICT DO NOTHING`` (its own commit) per webhook into
the same PostgreSQL, through asyncpg with the service's pool size. No timeline, no outbox, no
ordering. Run it as ``python -m bench.db_baseline --port N --database URL``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
from aiohttp import web

from bench.harness import ROOT, WEBHOOK_SECRET, Process, spawn, wait_http
from db.embedded import free_port

POOL_SIZE = 10  # the service's engine pool size (db.engine.make_engine)
POOL = web.AppKey("pool", asyncpg.Pool)
SECRET = web.AppKey("secret", bytes)
INSERT = (
    "INSERT INTO bench_baseline_webhooks (id, conversation_id, content) VALUES ($1, $2, $3) "
    "ON CONFLICT DO NOTHING"
)
CREATE = (
    "CREATE TABLE IF NOT EXISTS bench_baseline_webhooks (id bigint PRIMARY KEY, "
    "conversation_id bigint NOT NULL, content text NOT NULL)"
)


async def hook(request: web.Request) -> web.Response:
    """Verify the HMAC, store the message once, answer 200."""
    raw = await request.read()
    stamp = request.headers.get("X-Chatwoot-Timestamp", "")
    given = request.headers.get("X-Chatwoot-Signature", "")
    digest = hmac.new(request.app[SECRET], stamp.encode() + b"." + raw, hashlib.sha256)
    if not hmac.compare_digest(("sha256=" + digest.hexdigest()).encode(), given.encode()):
        return web.json_response({"error": "signature mismatch"}, status=401)
    payload = json.loads(raw)
    await request.app[POOL].execute(
        INSERT,
        int(payload["id"]),
        int(payload["conversation"]["id"]),
        str(payload.get("content") or ""),
    )
    return web.json_response({"ok": True})


async def healthz(_request: web.Request) -> web.Response:
    """Answer while the process is up."""
    return web.json_response({"status": "ok"})


def create_app(database_url: str, secret: str) -> web.Application:
    """Build the app; its pool opens (and its table is created) at start-up."""
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[SECRET] = secret.encode()

    async def pool(app: web.Application) -> AsyncIterator[None]:
        async with asyncpg.create_pool(
            database_url, min_size=POOL_SIZE, max_size=POOL_SIZE
        ) as opened:
            await opened.execute(CREATE)
            app[POOL] = opened
            yield

    app.cleanup_ctx.append(pool)
    app.router.add_post("/api/chatwoot/webhook", hook)
    app.router.add_get("/healthz", healthz)
    return app


@contextlib.asynccontextmanager
async def db_baseline(logs: Path, database_url: str) -> AsyncIterator[tuple[str, Process]]:
    """Run the database-bound baseline app; yield its base URL and process."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.db_baseline", "--port", str(port)]
    env = {"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "BASELINE_DATABASE": database_url}
    process = await spawn(f"db-baseline-{port}", argv, env, logs)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_http(f"{url}/healthz", process)
        yield url, process
    finally:
        await process.stop()


def main() -> None:
    """Serve the app on 127.0.0.1 until interrupted (database URL in BASELINE_DATABASE)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    database = os.environ["BASELINE_DATABASE"].replace("postgresql+asyncpg://", "postgresql://")
    app = create_app(database, WEBHOOK_SECRET)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
