"""Assemble the sandbox application and run it (in tests, or as ``tickets sandbox``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandbox import (
    admin,
    app_api,
    attachments,
    blobs,
    client_api,
    console,
    control,
    control_messages,
    mail,
    surveys,
)
from sandbox.cable import CableHub
from sandbox.config import SandboxConfig
from sandbox.desk import Desk
from sandbox.guard import RedactingAccessLogger, guard_middleware
from sandbox.keys import DESK
from sandbox.portal import add_portal
from sandbox.state import SandboxState
from sandbox.store import Store
from sandbox.webhooks import WebhookDispatcher

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_READS = frozenset({"GET", "HEAD", "OPTIONS"})

__all__ = ["SandboxConfig", "SandboxServer", "create_sandbox_app", "run_sandbox"]


def create_sandbox_app(
    config: SandboxConfig, mailbox: mail.Mailbox | None = None
) -> web.Application:
    """Build the sandbox: Client API, ``/cable``, control API, console, webhook sender."""
    state = SandboxState(config)
    store = Store(Path(config.state_dir)) if config.state_dir else None
    if store is not None:
        store.open(state)
    middlewares: list[Middleware] = [
        guard_middleware,
        client_api.client_api_middleware,
        control.control_middleware,
    ]
    if store is not None:
        middlewares.insert(1, _persisting(state, store))
    app = web.Application(middlewares=middlewares, client_max_size=attachments.MAX_BODY_BYTES)
    webhooks = WebhookDispatcher(state)
    cable = CableHub(state)
    app[DESK] = Desk(state, webhooks, cable)

    async def lifecycle(_: web.Application) -> AsyncIterator[None]:
        await webhooks.start()
        try:
            yield
        finally:
            await cable.close()
            await webhooks.close()
            if store is not None:
                store.close(state)

    app.cleanup_ctx.append(lifecycle)
    client_api.add_routes(app)
    control.add_routes(app)
    control_messages.add_routes(app)
    admin.add_routes(app)
    app_api.add_routes(app)
    console.add_routes(app)
    blobs.add_routes(app)
    surveys.add_routes(app)
    add_portal(app)
    mail.add_routes(app, mailbox or mail.Mailbox())
    app.router.add_get("/cable", cable.handle)
    return app


def _persisting(state: SandboxState, store: Store) -> Middleware:
    """Write every change a request made before its answer leaves (as a database commit)."""

    @web.middleware
    async def persist(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        finally:
            if request.method not in _READS:
                raw = request.match_info.get("conversation_id", "")
                if raw.isdigit() and int(raw) in state.conversations:
                    state.touch("conversation", int(raw))
                    message = request.match_info.get("message_id", "")
                    if message.isdigit():
                        state.touch("message", (int(raw), int(message)))
                uuid = request.match_info.get("conversation_uuid")
                for conv in state.conversations.values() if uuid else ():
                    if conv.uuid == uuid:
                        state.touch("conversation", conv.display_id)
                store.commit(state)

    return persist


class SandboxServer:
    """Run a sandbox on a real socket; ``async with SandboxServer(config) as sb:``."""

    def __init__(
        self, config: SandboxConfig | None = None, mailbox: mail.Mailbox | None = None
    ) -> None:
        self.config = config or SandboxConfig()
        self.app = create_sandbox_app(self.config, mailbox)
        self._runner: web.AppRunner | None = None
        self.url = ""

    @property
    def desk(self) -> Desk:
        """Return the sandbox's use-case object (state, webhooks, cable)."""
        return self.app[DESK]

    @property
    def mailbox(self) -> mail.Mailbox:
        """Return the mailbox the local mail server fills."""
        return self.app[mail.MAILBOX]

    @property
    def state(self) -> SandboxState:
        """Return the in-memory records."""
        return self.desk.state

    @property
    def cable_url(self) -> str:
        """Return the ``ws://…/cable`` URL."""
        return self.url.replace("http://", "ws://", 1) + "/cable"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving; return the base URL."""
        # The access log is off unless asked for; when on, identifiers are redacted.
        logging: dict[str, Any] = (
            {"access_log_class": RedactingAccessLogger}
            if self.config.access_log
            else {"access_log": None}
        )
        self._runner = web.AppRunner(self.app, handle_signals=False, **logging)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        bound_port = sockets[0].getsockname()[1] if sockets else port
        self.url = f"http://{host}:{bound_port}"
        if not self.config.frontend_url:
            self.state.frontend_url = self.url
        return self.url

    async def stop(self) -> None:
        """Stop serving and release every resource."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def drain_webhooks(self) -> None:
        """Wait until every queued webhook delivery has been attempted (wrap in a timeout)."""
        await self.desk.webhooks.drain()

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


async def run_sandbox(
    host: str, port: int, config: SandboxConfig, mailbox: mail.Mailbox | None = None
) -> None:
    """Serve the sandbox until cancelled, printing its URLs."""
    server = SandboxServer(config, mailbox)
    url = await server.start(host, port)
    print(f"Chatwoot sandbox: {url}")
    print(f"  agent console:  {url}/sandbox/")
    print(f"  mailbox:        {url}/sandbox/mail")
    print(f"  client API:     {url}/public/api/v1/inboxes/{config.inbox_identifier}")
    print(f"  cable:          {server.cable_url}")
    print(f"  webhook target: {config.webhook_url or '(none; POST /sandbox/api/webhook)'}")
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()
