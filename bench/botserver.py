"""Serve a bot in its own process for the bot-turn benchmark: the real app, or the SDK's echo bot.

``python -m bench.botserver --mode tickets|echo --port N --metadata-url URL --token-url URL``
reads the rest of its settings from the environment (as `tickets serve` does). Both modes take
the same inbound path: the SDK validates Teams' signed token against the local issuer at
``--metadata-url``; outbound tokens come from the fake connector's ``--token-url``.
"""

from __future__ import annotations

import argparse
import asyncio
from types import SimpleNamespace
from typing import cast

from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botframework.connector.auth import ChannelValidation

from bot.auth import make_adapter
from bot.routes import BOT_CREDENTIALS
from tests.bot.harness import APP_ID, APP_PASSWORD
from tests.fakes.connector import ConnectorCredentialsFactory, FakeConnector
from tickets.cli import migrate
from tickets.settings import Settings, load_settings


class EchoBot(ActivityHandler):  # type: ignore[misc]
    """The SDK's stock echo bot: answer every message with its own text."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Echo the text back through the connector."""
        await turn_context.send_activity(MessageFactory.text(f"Echo: {turn_context.activity.text}"))


def credentials(token_url: str) -> ConnectorCredentialsFactory:
    """Return the outbound credentials factory that asks the fake connector for tokens."""
    # The factory only reads the connector's token URL; the connector runs in the driver.
    connector = cast(FakeConnector, SimpleNamespace(token_url=token_url))
    return ConnectorCredentialsFactory(connector, APP_ID, APP_PASSWORD)


def echo_app(settings: Settings, token_url: str) -> web.Application:
    """Build a bare app whose /api/messages is the SDK's stock CloudAdapter.process + echo."""
    adapter, _ = make_adapter(settings, credentials(token_url), turn_clients=False)
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        response = await adapter.process(request, bot)
        return response if response is not None else web.Response(status=201)

    async def ready(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ready"})

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/readyz", ready)
    return app


def main() -> None:
    """Serve the chosen bot on 127.0.0.1 until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=("tickets", "echo"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--metadata-url", required=True)
    parser.add_argument("--token-url", required=True)
    args = parser.parse_args()
    ChannelValidation.open_id_metadata_endpoint = args.metadata_url
    settings = load_settings()
    if args.mode == "echo":
        app = echo_app(settings, args.token_url)
    else:
        from tickets.app import create_app

        asyncio.run(migrate(settings))
        app = create_app(settings)
        app[BOT_CREDENTIALS] = credentials(args.token_url)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
