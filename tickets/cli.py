"""The `tickets` command: serve, migrate, sandbox, manifest."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from aiohttp import web

from db.embedded import EmbeddedPostgres, EmbeddedPostgresError
from db.engine import make_engine
from db.migrate import upgrade_to_head
from tickets.entropy import mask
from tickets.settings import Settings, SettingsError, exposure_problem, load_settings

log = logging.getLogger("tickets")

EXIT_CONFIG = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"tickets: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    logging.basicConfig(
        level=settings.LOG_LEVEL.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Per-request client logs drown the service's own lines; keep their warnings.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    command: str = args.command
    try:
        if command == "serve":
            settings = settings.model_copy(
                update={"HOST": args.host or settings.HOST, "PORT": args.port or settings.PORT}
            )
            # --host bypasses the settings' own validation: check what depends on it again.
            problem = exposure_problem(settings)
            if problem:
                print(f"tickets: configuration error: {problem}", file=sys.stderr)
                return EXIT_CONFIG
            asyncio.run(_serve(settings))
        elif command == "migrate":
            asyncio.run(_migrate(settings))
        elif command == "sandbox":
            asyncio.run(_sandbox(settings, args.host, args.port))
        elif command == "manifest":
            return _manifest(settings, args.out)
    except KeyboardInterrupt:
        return 0
    except (EmbeddedPostgresError, OSError) as exc:
        print(f"tickets: {exc}", file=sys.stderr)
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tickets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="migrate and serve the web area, bot and webhook")
    serve.add_argument("--host", default=None, help="bind address (default: HOST setting)")
    serve.add_argument("--port", type=int, default=None, help="port (default: PORT setting)")
    sub.add_parser("migrate", help="upgrade the database to the newest schema")
    sandbox = sub.add_parser("sandbox", help="run the local Chatwoot stand-in alone")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=3001)
    manifest = sub.add_parser("manifest", help="build the Teams app package (zip)")
    manifest.add_argument("--out", type=Path, default=None, help="zip path to write")
    return parser


@contextlib.asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[Settings]:
    """Yield settings with a usable DATABASE_URL, starting the embedded server when unset."""
    if settings.DATABASE_URL:
        yield settings
        return
    server = await asyncio.to_thread(EmbeddedPostgres(Path(settings.DATA_DIR)).start)
    try:
        yield settings.model_copy(update={"DATABASE_URL": server.url()})
    finally:
        await asyncio.to_thread(server.stop)


async def migrate(settings: Settings) -> None:
    """Upgrade the configured database to head."""
    assert settings.DATABASE_URL is not None
    engine = make_engine(settings.DATABASE_URL, pool_size=1)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


async def _migrate(settings: Settings) -> None:
    async with database(settings) as resolved:
        await migrate(resolved)
        print("tickets: database is at the newest revision")


def sandbox_webhook_token(settings: Settings) -> str:
    """Derive a stable webhook token for the bundled sandbox from SECRET_KEY."""
    key = settings.SECRET_KEY.get_secret_value().encode()
    return hmac.new(key, b"sandbox-webhook-token", hashlib.sha256).hexdigest()[:32]


@contextlib.asynccontextmanager
async def chatwoot(settings: Settings, public_base: str) -> AsyncIterator[Settings]:
    """Yield settings pointing at Chatwoot, starting the sandbox when none is configured."""
    if not settings.sandbox_mode:
        yield settings
        return
    from sandbox.app import SandboxConfig, SandboxServer
    from sandbox.portal import DEFAULT_PORTAL_SLUG

    # Fresh random values per run: the sandbox is wired here and forgets everything on exit,
    # and a value derived from the well-known development SECRET_KEY could be computed by anyone.
    token = settings.CHATWOOT_WEBHOOK_TOKEN.get_secret_value() or secrets.token_urlsafe(32)
    secret = settings.CHATWOOT_WEBHOOK_SECRET.get_secret_value() or secrets.token_urlsafe(32)
    config = SandboxConfig(
        webhook_url=f"{public_base}/api/chatwoot/webhook?token={token}",
        webhook_secret=secret,
    )
    server = SandboxServer(config)
    await server.start(host="127.0.0.1", port=settings.SANDBOX_PORT)
    try:
        yield settings.model_copy(
            update={
                "CHATWOOT_BASE_URL": server.url,
                "CHATWOOT_INBOX_IDENTIFIER": config.inbox_identifier,
                "CHATWOOT_PORTAL_SLUG": settings.CHATWOOT_PORTAL_SLUG or DEFAULT_PORTAL_SLUG,
                "CHATWOOT_WEBHOOK_TOKEN": settings.CHATWOOT_WEBHOOK_TOKEN.__class__(token),
                "CHATWOOT_WEBHOOK_SECRET": settings.CHATWOOT_WEBHOOK_SECRET.__class__(secret),
            }
        )
    finally:
        await server.stop()


async def _serve(settings: Settings) -> None:
    from tickets.app import create_app

    local = f"http://{settings.HOST}:{settings.PORT}"
    async with database(settings) as with_db, chatwoot(with_db, local) as resolved:
        await migrate(resolved)
        app = create_app(resolved)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, resolved.HOST, resolved.PORT)
        await site.start()
        print(banner(resolved, local), flush=True)
        try:
            await _wait_for_signal()
        finally:
            await runner.cleanup()


def banner(settings: Settings, local: str) -> str:
    """Describe every URL the service serves (secrets masked) for the start-up banner."""
    # The banner lands in terminals and log collectors: name the setting, never its value.
    token = mask(settings.CHATWOOT_WEBHOOK_TOKEN.get_secret_value())
    lines = [
        f"Tickets for Teams serving on {local}",
        f"  web area        {local}/",
        f"  bot endpoint    {local}/api/messages",
        f"  webhook         {settings.base_url}/api/chatwoot/webhook?token={token}"
        + ("" if settings.sandbox_mode else "  (token: your CHATWOOT_WEBHOOK_TOKEN)"),
        f"  health          {local}/healthz  {local}/readyz",
        f"  Chatwoot        {settings.CHATWOOT_BASE_URL}"
        + ("  (local sandbox; agent console at /sandbox/)" if settings.sandbox_mode else ""),
        f"  database        {_redact(settings.DATABASE_URL or '')}",
    ]
    return "\n".join(lines)


def _redact(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _sandbox(settings: Settings, host: str, port: int) -> None:
    from sandbox.app import SandboxConfig, run_sandbox

    token = sandbox_webhook_token(settings)
    base = f"http://{settings.HOST}:{settings.PORT}"
    config = SandboxConfig(
        webhook_url=f"{base}/api/chatwoot/webhook?token={token}", webhook_secret=token
    )
    await run_sandbox(host, port, config)


def _manifest(settings: Settings, out: Path | None) -> int:
    from tickets.manifest import ManifestConfigError, build_manifest_package

    try:
        path = build_manifest_package(settings, out)
    except ManifestConfigError as exc:
        print(f"tickets manifest: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"tickets manifest: wrote {path}")
    return 0
