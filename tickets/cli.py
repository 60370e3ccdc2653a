"""The `tickets` command: serve, migrate, sandbox, manifest."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web
from pydantic import SecretStr

from db.embedded import EmbeddedPostgres, EmbeddedPostgresError
from db.engine import make_engine
from db.migrate import upgrade_to_head
from sandbox.config import SandboxConfig
from sandbox.store import StoreInUse
from tickets import trace
from tickets.banner import banner
from tickets.binding import check_helpdesk_binding
from tickets.http_limits import runner_options
from tickets.logs import configure_logging
from tickets.ports import PortBusyError, check_ports, port_error
from tickets.setting_values import is_loopback
from tickets.settings import (
    ManifestSettings,
    Settings,
    SettingsError,
    load_settings,
)
from tickets.workers import run_workers, wait_for_signal

if TYPE_CHECKING:
    from sandbox.mail import Mailbox

log = logging.getLogger("tickets")

EXIT_CONFIG = 2
# The agent the bundled sandbox starts with, online, so auto-assignment has someone to pick.
SANDBOX_AGENT = "Sandbox Agent"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    command: str = args.command
    try:
        settings = _command_settings(args)
        if command in {"serve", "migrate"}:
            check_database(settings)
        if command == "serve":
            refuse_public_sandbox(settings)
            check_mail(settings)
            check_ports(settings)
        if command == "sandbox" and not is_loopback(args.host):
            raise SettingsError(
                f"--host {args.host} is not a loopback address "
                "(the sandbox has no authentication and must stay on this machine)"
            )
    except SettingsError as exc:
        print(f"tickets: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except PortBusyError as exc:
        print(f"tickets: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.LOG_LEVEL)
    if settings.TRACE_LATENCY:
        trace.enable()
    try:
        if command == "serve":
            asyncio.run(_serve(settings))
        elif command == "migrate":
            asyncio.run(_migrate(settings))
        elif command == "sandbox":
            asyncio.run(_sandbox(settings, args.host, args.port, args.smtp_port))
        elif command == "manifest":
            return _manifest(settings, args.out)
    except KeyboardInterrupt:
        return 0
    except SettingsError as exc:
        # Found once the database is up (another Chatwoot behind this database).
        print(f"tickets: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except PortBusyError as exc:
        print(f"tickets: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except StoreInUse as exc:
        print(f"tickets: {exc}", file=sys.stderr)
        return 1
    except (EmbeddedPostgresError, OSError) as exc:
        print(f"tickets: {exc}", file=sys.stderr)
        return 1
    return 0


def _command_settings(args: argparse.Namespace) -> Settings:
    """Load the settings this command needs, with its flags applied before any check runs."""
    if args.command == "manifest":
        return load_settings(ManifestSettings)
    overrides: dict[str, object] = {}
    if args.command == "serve":
        # Same checks as HOST/PORT in the environment (e.g. a public bind needs an app id).
        if args.host is not None:
            overrides["HOST"] = args.host
        if args.port is not None:
            overrides["PORT"] = args.port
        if args.workers is not None:
            overrides["WORKERS"] = args.workers
    return load_settings(Settings, **overrides)


def check_database(settings: Settings) -> None:
    """Refuse the embedded PostgreSQL behind a public URL unless explicitly allowed."""
    public = settings.PUBLIC_URL.startswith("https://")
    if public and not settings.DATABASE_URL and not settings.ALLOW_EMBEDDED_DATABASE:
        raise SettingsError(
            "DATABASE_URL: required when PUBLIC_URL is https (the embedded PostgreSQL is for "
            "local use; set ALLOW_EMBEDDED_DATABASE=true to keep it anyway)"
        )


def check_mail(settings: Settings) -> None:
    """Refuse to serve a public site whose account e-mail would go nowhere."""
    if settings.cookie_secure and settings.smtp is None:
        raise SettingsError(
            "SMTP_URL: required when PUBLIC_URL is https "
            "(password resets and address checks go out by e-mail)"
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tickets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="migrate and serve the web area, bot and webhook")
    serve.add_argument("--host", default=None, help="bind address (default: HOST setting)")
    serve.add_argument("--port", type=int, default=None, help="port (default: PORT setting)")
    serve.add_argument(
        "--workers",
        default=None,
        help="service processes on the port, or auto: one per CPU (default: WORKERS setting)",
    )
    sub.add_parser("migrate", help="upgrade the database to the newest schema")
    sandbox = sub.add_parser("sandbox", help="run the local Chatwoot stand-in alone")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=3001)
    sandbox.add_argument("--smtp-port", type=int, default=0, help="mail server port (0: any)")
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


def sandbox_config(settings: Settings, webhook_url: str, webhook_secret: str) -> SandboxConfig:
    """Configure the bundled sandbox as Chatwoot behaves, remembering under DATA_DIR."""
    return SandboxConfig(
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        state_dir=str(Path(settings.DATA_DIR) / "sandbox"),
        enable_auto_assignment=True,
        agents=(SANDBOX_AGENT,),
        access_log=settings.SANDBOX_LOG,
    )


def refuse_public_sandbox(settings: Settings) -> None:
    """Refuse the sandbox as the helpdesk of a public (https) deployment."""
    if settings.sandbox_mode and settings.PUBLIC_URL.startswith("https://"):
        raise SettingsError(
            "CHATWOOT_BASE_URL: required when PUBLIC_URL is https "
            "(the bundled sandbox is for local use only)"
        )


@contextlib.asynccontextmanager
async def local_mail(settings: Settings) -> AsyncIterator[tuple[Settings, Mailbox | None]]:
    """Yield settings with an SMTP_URL, starting the sandbox's mail server when none is set."""
    if settings.SMTP_URL.get_secret_value() or not settings.sandbox_mode:
        yield settings, None
        return
    from sandbox.mail import MailServer

    server = MailServer()
    url = await server.start("127.0.0.1", 0)
    try:
        yield settings.model_copy(update={"SMTP_URL": SecretStr(url)}), server.mailbox
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def chatwoot(
    settings: Settings, public_base: str, mailbox: Mailbox | None = None
) -> AsyncIterator[Settings]:
    """Yield settings pointing at Chatwoot, starting the sandbox when none is configured."""
    if not settings.sandbox_mode:
        yield settings
        return
    from sandbox.app import SandboxServer
    from sandbox.portal import DEFAULT_PORTAL_SLUG

    # Fresh random values per run: the webhook target is configured afresh at every start (it is
    # not part of the stored records), and a value derived from the well-known development
    # SECRET_KEY could be computed by anyone.
    token = settings.CHATWOOT_WEBHOOK_TOKEN.get_secret_value() or secrets.token_urlsafe(32)
    secret = settings.CHATWOOT_WEBHOOK_SECRET.get_secret_value() or secrets.token_urlsafe(32)
    config = sandbox_config(
        settings, f"{public_base}/api/chatwoot/webhook?token={token}", webhook_secret=secret
    )
    server = SandboxServer(config, mailbox)
    try:
        await server.start(host="127.0.0.1", port=settings.SANDBOX_PORT)
    except OSError as exc:
        await server.stop()  # closes its HTTP client too (no "Unclosed client session")
        raise port_error(exc, settings.SANDBOX_PORT, "SANDBOX_PORT") from None
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
    async with (
        database(settings) as with_db,
        local_mail(with_db) as (with_mail, mailbox),
        chatwoot(with_mail, local, mailbox) as resolved,
    ):
        await migrate(resolved)
        await check_helpdesk_binding(resolved, sandbox=settings.sandbox_mode)
        said = banner(resolved, local, sandbox=settings.sandbox_mode, mailbox=mailbox is not None)
        if resolved.worker_count > 1:
            await _serve_workers(resolved, said)
            return
        runner = web.AppRunner(create_app(resolved), access_log=None, **runner_options(resolved))
        await runner.setup()
        try:
            site = web.TCPSite(runner, resolved.HOST, resolved.PORT)
            try:
                await site.start()
            except OSError as exc:
                # Taken between the check at start-up and now: same line, clean shutdown.
                raise port_error(exc, resolved.PORT, "PORT") from None
            print(said, flush=True)
            await wait_for_signal()
        finally:
            await runner.cleanup()


async def _serve_workers(settings: Settings, said: str) -> None:
    """Run WORKERS service processes on the port until a signal; restart any that dies."""

    def ready(pids: list[int]) -> None:
        print(said, flush=True)
        print(f"  processos / workers: {settings.worker_count} (pids {pids})", flush=True)

    await run_workers(settings, on_ready=ready)


async def _sandbox(settings: Settings, host: str, port: int, smtp_port: int) -> None:
    from sandbox.app import run_sandbox
    from sandbox.mail import MailServer

    token = sandbox_webhook_token(settings)
    base = f"http://{settings.HOST}:{settings.PORT}"
    config = sandbox_config(settings, f"{base}/api/chatwoot/webhook?token={token}", token)
    mail = MailServer()
    print(f"Local mail server (SMTP_URL): {await mail.start(host, smtp_port)}")
    try:
        await run_sandbox(host, port, config, mail.mailbox)
    finally:
        await mail.stop()


def _manifest(settings: Settings, out: Path | None) -> int:
    from tickets.manifest import ManifestConfigError, build_manifest_package

    try:
        path = build_manifest_package(settings, out)
    except ManifestConfigError as exc:
        print(f"tickets manifest: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"tickets manifest: wrote {path}")
    return 0
