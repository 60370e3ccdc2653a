"""`POST /api/messages`: authenticate first, then run the bot; plus the adapter's lifecycle."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from botbuilder.core import InvokeResponse
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

from bot import views
from bot.auth import CachingCredentialsFactory, Unauthorized, authenticate, make_adapter
from bot.gateway import TeamsGateway
from bot.handler import TicketsBot
from bot.identity import tenant_of
from bot.keys import OUTBOX, TEAMS_GATEWAY
from bot.limits import RateLimiter
from bot.outbox import OutboxWorker
from bot.turn_limits import limited
from db.engine import plain_dsn
from tickets import keys
from tickets.setting_checks import exposure_problem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BotRuntime:
    """The adapter, the bot, the credentials and the Teams rate limiter of the running app."""

    adapter: CloudAdapter
    bot: TicketsBot
    credentials: CachingCredentialsFactory
    # One per process: turns and the outbox reserve their calls to Teams in the same batches.
    limiter: RateLimiter


BOT: web.AppKey[BotRuntime] = web.AppKey("bot_runtime", BotRuntime)
# Threads for the SDK's blocking requests: more than the outbox's sends in flight (16) plus
# turns' calls, so none waits for a thread.
TEAMS_THREADS = 48

# Test seam: a botframework credentials factory used instead of Entra (set before start-up).
BOT_CREDENTIALS: web.AppKey[Any] = web.AppKey("bot_credentials")


@functools.cache
def _teams_executor() -> ThreadPoolExecutor:
    """Return the process's one executor for the SDK's requests (threads start on demand)."""
    return ThreadPoolExecutor(max_workers=TEAMS_THREADS, thread_name_prefix="teams-io")


def setup_bot(app: web.Application) -> None:
    """Register the bot endpoint, the adapter's lifecycle and the proactive outbox."""
    app.router.add_post("/api/messages", messages)
    # The outbox sends through the gateway, so it starts after it and stops before it.
    app.cleanup_ctx.extend([_bot_ctx, _outbox_ctx])


async def _bot_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    # The SDK makes every Teams request with `requests` on the loop's default executor (6
    # threads on 2 cores). A send that queues there for a thread leaves later than the slot
    # the limiter granted it, and a burst of them can go over Teams' per-second limits.
    asyncio.get_running_loop().set_default_executor(_teams_executor())
    adapter, credentials = make_adapter(settings, app.get(BOT_CREDENTIALS))
    gateway = TeamsGateway(adapter, settings.MICROSOFT_APP_ID)
    limiter = RateLimiter(app[keys.SESSIONMAKER])
    bot = TicketsBot(
        app[keys.SERVICE],
        app[keys.SESSIONMAKER],
        settings,
        app[keys.HELP],
        gateway=gateway,
        limiter=limiter,
        answers=app[keys.ANSWERS],
        presence=app[keys.PRESENCE],
        http=app[keys.HTTP],
    )
    adapter.on_turn_error = bot.on_error
    app[BOT] = BotRuntime(adapter, bot, credentials, limiter)
    app[TEAMS_GATEWAY] = gateway
    yield
    # The outbox has stopped by now (it starts after this context), so no send is in flight.
    await gateway.close()
    await app[BOT].limiter.close()  # the answers of the last sends, or they count 30 s more


async def _outbox_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    worker = OutboxWorker(
        app[keys.SESSIONMAKER],
        app[TEAMS_GATEWAY],
        dsn=plain_dsn(settings.DATABASE_URL or ""),
        base_url=settings.base_url,
        default_locale=settings.DEFAULT_LOCALE,
        labels=views.choice_labels(settings),
        links=views.file_links(settings),
        limiter=app[BOT].limiter,
    )
    app[OUTBOX] = worker
    await worker.start()
    yield
    await worker.stop()


async def messages(request: web.Request) -> web.Response:
    """Receive one activity from Teams: 401 unless authenticated, then run the bot."""
    runtime = request.app[BOT]
    settings = request.app[keys.SETTINGS]
    auth_header = request.headers.get("Authorization", "")
    if settings.bot_without_auth and exposure_problem(settings):
        # Settings refuse this at start-up; an app assembled by hand must not open the door.
        return _unauthorized()
    if settings.MICROSOFT_APP_ID and not auth_header.startswith("Bearer "):
        return _unauthorized()
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError, RecursionError):
        return web.json_response({"error": "bad json"}, status=400)
    if not isinstance(body, dict):
        return web.json_response({"error": "expected an activity"}, status=400)
    try:
        activity = Activity().deserialize(body)
    except Exception:  # msrest raises assorted errors on malformed fields
        return web.json_response({"error": "bad activity"}, status=400)
    if not activity.type:
        return web.json_response({"error": "activity without type"}, status=400)
    try:
        auth = await authenticate(runtime.adapter, activity, auth_header)
    except Unauthorized:
        return _unauthorized()
    tenant = tenant_of(activity)
    auth = request.app[TEAMS_GATEWAY].for_turn(auth, limited(runtime.limiter, tenant))
    tenants = settings.allowed_tenants
    if tenants and tenant not in tenants:
        # A genuine token proves the activity came through the Bot Framework, not from whom:
        # any tenant that installs the app can reach the endpoint.
        log.warning("activity from a tenant outside ALLOWED_TENANTS refused")
        return web.json_response({"error": "tenant not allowed"}, status=403)
    invoke_response = await runtime.adapter.process_activity(auth, activity, runtime.bot.on_turn)
    if invoke_response is None:
        return web.Response(status=201)
    return _invoke_json(invoke_response)


def _unauthorized() -> web.Response:
    return web.json_response({"error": "unauthorized"}, status=401)


def _invoke_json(response: InvokeResponse) -> web.Response:
    """Serialize an invoke response; the SDK's own path answers 500 for bodies (REFERENCE §5.2)."""
    status = int(response.status or 200)
    body = response.body
    if body is None:
        return web.Response(status=status)
    try:
        if not isinstance(body, dict | list | str | int | float | bool):
            body = serializer_helper(body)
        text = json.dumps(body)
    except Exception as exc:  # an SDK error body holding an exception object, for one
        log.warning("unserializable invoke response: %s", type(exc).__name__)
        status = 400 if 400 <= status < 500 else 500
        text = json.dumps(
            {
                "statusCode": status,
                "type": "application/vnd.microsoft.error",
                "value": {"code": "InvalidRequest", "message": "invalid request"},
            }
        )
    return web.Response(status=status, text=text, content_type="application/json")
