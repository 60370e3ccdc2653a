"""Assemble the sandbox application and run it (in tests, or as ``tickets sandbox``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import TracebackType

from aiohttp import web

from sandbox import attachments, blobs, client_api, console, control, control_messages, surveys
from sandbox.cable import CableHub
from sandbox.config import SandboxConfig
from sandbox.desk import Desk
from sandbox.keys import DESK
from sandbox.portal import add_portal
from sandbox.state import SandboxState
from sandbox.webhooks import WebhookDispatcher

__all__ = ["SandboxConfig", "SandboxServer", "create_sandbox_app", "run_sandbox"]


def create_sandbox_app(config: SandboxConfig) -> web.Application:
    """Build the sandbox: Client API, ``/cable``, control API, console, webhook sender."""
    app = web.Application(
        middlewares=[client_api.client_api_middleware, control.control_middleware],
        client_max_size=attachments.MAX_BODY_BYTES,
    )
    state = SandboxState(config)
    webhooks = WebhookDispatcher(state)
    cable = CableHub(state)
    app[DESK] = Desk(state, webhooks, cable)

    async def lifecycle(_: web.Application) -> AsyncIterator[None]:
        await webhooks.start()
        yield
        await cable.close()
        await webhooks.close()

    app.cleanup_ctx.append(lifecycle)
    client_api.add_routes(app)
    control.add_routes(app)
    control_messages.add_routes(app)
    console.add_routes(app)
    blobs.add_routes(app)
    surveys.add_routes(app)
    add_portal(app)
    app.router.add_get("/cable", cable.handle)
    return app


class SandboxServer:
    """Run a sandbox on a real socket; ``async with SandboxServer(config) as sb:``."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.app = create_sandbox_app(self.config)
        self._runner: web.AppRunner | None = None
        self.url = ""

    @property
    def desk(self) -> Desk:
        """Return the sandbox's use-case object (state, webhooks, cable)."""
        return self.app[DESK]

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
        self._runner = web.AppRunner(self.app, handle_signals=False)
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


async def run_sandbox(host: str, port: int, config: SandboxConfig) -> None:
    """Serve the sandbox until cancelled, printing its URLs."""
    server = SandboxServer(config)
    url = await server.start(host, port)
    print(f"Chatwoot sandbox: {url}")
    print(f"  agent console:  {url}/sandbox/")
    print(f"  client API:     {url}/public/api/v1/inboxes/{config.inbox_identifier}")
    print(f"  cable:          {server.cable_url}")
    print(f"  webhook target: {config.webhook_url or '(none; POST /sandbox/api/webhook)'}")
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()
