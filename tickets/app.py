"""Assemble the aiohttp application: resources in dependency order, then every route."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable

import asyncpg
import httpx
from aiohttp import web

from chatwoot.client import ChatwootClient
from chatwoot.help import HelpCenter
from db.engine import make_engine, make_sessionmaker, ping, plain_dsn
from tickets import keys
from tickets.accounts import AccountMail
from tickets.answers import AnswerService
from tickets.help import HelpService
from tickets.hub import Hub
from tickets.ingest import Ingestor
from tickets.mail_worker import MailWorker
from tickets.mails import MailRenderer
from tickets.presence import PresenceService
from tickets.relay import CableRelay, cable_url
from tickets.service import TicketService
from tickets.settings import Settings
from tickets.smtp import SmtpClient

log = logging.getLogger(__name__)

POOL_SIZE = 10  # connections per pool (the ORM's and ingest's), per process


def create_app(settings: Settings) -> web.Application:
    """Build the whole service for `settings` (DATABASE_URL and CHATWOOT_BASE_URL resolved)."""
    if settings.DATABASE_URL is None:
        raise ValueError("create_app needs a DATABASE_URL (the CLI starts the embedded server)")
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[keys.SETTINGS] = settings
    app.cleanup_ctx.extend([_database, _http, _hub, _chatwoot, _service, _help, _mail])
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    # The composition root is the one place that knows every front door.
    from bot.routes import setup_bot
    from web.routes import setup_web
    from web.webhook import setup_webhook

    setup_webhook(app)
    setup_web(app)
    setup_bot(app)
    app.cleanup_ctx.append(_relay)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    assert settings.DATABASE_URL is not None
    engine = make_engine(settings.DATABASE_URL, pool_size=POOL_SIZE)
    app[keys.ENGINE] = engine
    app[keys.SESSIONMAKER] = make_sessionmaker(engine)
    async with asyncpg.create_pool(
        plain_dsn(settings.DATABASE_URL), min_size=1, max_size=POOL_SIZE
    ) as pool:
        app[keys.POOL] = pool
        yield
    await engine.dispose()


async def _http(app: web.Application) -> AsyncIterator[None]:
    client = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
    app[keys.HTTP] = client
    yield
    await client.aclose()


async def _hub(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    assert settings.DATABASE_URL is not None
    hub = Hub(plain_dsn(settings.DATABASE_URL))
    await hub.start()
    app[keys.HUB] = hub
    yield
    await hub.stop()


async def _chatwoot(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    client = ChatwootClient(
        settings.CHATWOOT_BASE_URL,
        settings.CHATWOOT_INBOX_IDENTIFIER,
        timeout=10.0,
        api_access_token=settings.CHATWOOT_API_ACCESS_TOKEN.get_secret_value() or None,
        account_id=settings.CHATWOOT_ACCOUNT_ID,
    )
    app[keys.CHATWOOT] = client
    yield
    await client.aclose()


async def _service(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    app[keys.INGESTOR] = Ingestor(app[keys.SESSIONMAKER], app[keys.POOL])
    app[keys.SERVICE] = TicketService(
        app[keys.SESSIONMAKER],
        app[keys.CHATWOOT],
        app[keys.INGESTOR],
        inbox=settings.CHATWOOT_INBOX_IDENTIFIER,
        secret=settings.SECRET_KEY.get_secret_value(),
        complexities=settings.TICKET_COMPLEXITIES,
        sectors=settings.TICKET_SECTORS,
    )
    app[keys.ANSWERS] = AnswerService(app[keys.SESSIONMAKER], app[keys.CHATWOOT], app[keys.SERVICE])
    app[keys.PRESENCE] = PresenceService(app[keys.SESSIONMAKER], app[keys.CHATWOOT])
    yield


async def _help(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    center = None
    if settings.CHATWOOT_PORTAL_SLUG:
        center = HelpCenter(settings.CHATWOOT_BASE_URL, settings.CHATWOOT_PORTAL_SLUG)
    app[keys.HELP] = HelpService(app[keys.SESSIONMAKER], center)
    yield
    if center is not None:
        await center.aclose()


async def _mail(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    smtp = settings.smtp
    worker = MailWorker(
        app[keys.SESSIONMAKER],
        SmtpClient(smtp) if smtp is not None else None,
        sender=settings.MAIL_FROM,
    )
    app[keys.MAIL_WORKER] = worker
    app[keys.ACCOUNT_MAIL] = AccountMail(
        app[keys.SESSIONMAKER],
        renderer=MailRenderer(),
        wake=worker.wake,
        default_locale=settings.DEFAULT_LOCALE,
        signups_per_address=settings.SIGNUPS_PER_ADDRESS_HOUR,
    )
    worker.start()
    yield
    await worker.stop()


async def _relay(app: web.Application) -> AsyncIterator[None]:
    relay = CableRelay(
        app[keys.INGESTOR],
        app[keys.CHATWOOT],
        app[keys.SESSIONMAKER],
        cable_url=cable_url(app[keys.SETTINGS].CHATWOOT_BASE_URL),
        lock_dsn=plain_dsn(app[keys.SETTINGS].DATABASE_URL or ""),
        periodic_catch_up=app[keys.SETTINGS].CHATWOOT_CATCH_UP_SECONDS,
    )
    app[keys.RELAY] = relay
    await relay.start()
    yield
    await relay.stop()


async def healthz(_request: web.Request) -> web.Response:
    """Answer while the process is up, naming it (several workers share the port)."""
    return web.json_response({"status": "ok", "process": os.getpid()})


async def readyz(request: web.Request) -> web.Response:
    """Answer 200 when the database (and Chatwoot, when wired) answer, else 503."""
    checks: dict[str, dict[str, object]] = {}
    checks["database"] = await _timed(_check_database(request.app))
    chatwoot = request.app.get(keys.CHATWOOT)
    if chatwoot is not None:
        checks["chatwoot"] = await _timed(chatwoot.ping())
    ready = all(check["ok"] for check in checks.values())
    return web.json_response(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


async def _check_database(app: web.Application) -> None:
    await ping(app[keys.ENGINE])


async def _timed(check: Awaitable[object]) -> dict[str, object]:
    started = time.perf_counter()
    try:
        answer = await check
    except Exception as exc:  # readiness reports any failure as "not ready"
        return {"ok": False, "error": type(exc).__name__}
    if answer is False:
        return {"ok": False, "error": "no answer"}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
