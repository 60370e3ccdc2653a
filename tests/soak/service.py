"""Run the real service in its own process for the soak, with the two Teams test seams applied.

``python -m tests.soak.service --port N --metadata-url URL --token-url URL`` does what
``tickets serve`` does (settings from the environment, migrate, ``create_app``, serve on
127.0.0.1) plus two things no setting can do today: the SDK validates Teams' tokens against the
local issuer at ``--metadata-url`` (``ChannelValidation.open_id_metadata_endpoint``), and
outbound tokens come from the fake connector's ``--token-url`` (the ``BOT_CREDENTIALS`` seam).
With settings for those two (e.g. ``BOT_OPENID_METADATA_URL``, ``BOT_LOGIN_URL``) the soak
could start ``tickets serve`` itself.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
from types import SimpleNamespace
from typing import cast

from aiohttp import web
from botframework.connector.auth import ChannelValidation

from bot.routes import BOT_CREDENTIALS
from tests.bot.harness import APP_ID, APP_PASSWORD
from tests.fakes.connector import ConnectorCredentialsFactory, FakeConnector
from tickets.app import create_app
from tickets.cli import migrate
from tickets.settings import load_settings
from tickets.workers import run_workers


def main() -> None:
    """Migrate, then serve the real app on 127.0.0.1 until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--metadata-url", required=True)
    parser.add_argument("--token-url", required=True)
    args = parser.parse_args()
    settings = load_settings()
    logging.basicConfig(
        level=settings.LOG_LEVEL.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(migrate(settings))
    seams = functools.partial(apply_seams, args.metadata_url, args.token_url)
    if settings.worker_count > 1:
        # As `tickets serve --workers N`: this process watches N workers on the port.
        serving = settings.model_copy(update={"HOST": "127.0.0.1", "PORT": args.port})
        asyncio.run(run_workers(serving, setup=seams, on_ready=lambda _pids: None))
        return
    app = create_app(settings)
    seams(app)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


def apply_seams(metadata_url: str, token_url: str, app: web.Application) -> None:
    """Point the SDK at the local token issuer and the fake connector's token URL."""
    ChannelValidation.open_id_metadata_endpoint = metadata_url
    # The factory only reads the connector's token URL; the connector runs in the soak driver.
    connector = cast(FakeConnector, SimpleNamespace(token_url=token_url))
    app[BOT_CREDENTIALS] = ConnectorCredentialsFactory(connector, APP_ID, APP_PASSWORD)


if __name__ == "__main__":
    main()
