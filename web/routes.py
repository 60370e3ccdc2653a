"""Assemble the browser front door: rendering, middlewares, pages, API, /ws and Microsoft login."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from tickets import keys
from tickets.http_limits import body_deadline
from web import keys as web_keys
from web.account_mail import setup_account_mail
from web.answers import setup_answers
from web.api import setup_api
from web.attachments import setup_attachments
from web.auth import setup_auth
from web.errors import client_gone_middleware, error_middleware, security_headers
from web.help import setup_help
from web.microsoft import MicrosoftLogin
from web.pages import setup_pages
from web.passwords import Passwords
from web.presence_api import setup_presence_api
from web.profile import setup_profile
from web.render import STATIC, setup_rendering
from web.sessions import on_prepare, purge_forever, session_middleware
from web.ws import setup_ws


def setup_web(app: web.Application) -> None:
    """Register the web area: its resources, middlewares and routes."""
    setup_rendering(app)
    # The error boundary wraps the session layer, so a CSRF refusal renders as a 403 page.
    # The body deadline (every front door's) sits between them: its 413/408 get a page, and
    # the CSRF check reads a form only once the body has arrived in time.
    app.middlewares.extend(
        [client_gone_middleware, error_middleware, body_deadline, session_middleware]
    )
    app.on_response_prepare.append(on_prepare)
    app.on_response_prepare.append(security_headers)
    app.cleanup_ctx.append(_accounts)
    setup_auth(app)
    setup_profile(app)
    setup_account_mail(app)
    setup_pages(app)
    setup_api(app)
    setup_answers(app)
    setup_presence_api(app)
    setup_attachments(app)
    setup_help(app)
    setup_ws(app)
    app.router.add_static("/static/", STATIC, name="static", append_version=False)


async def _accounts(app: web.Application) -> AsyncIterator[None]:
    # Hashing the dummy password takes tens of milliseconds: keep it off the event loop.
    app[web_keys.PASSWORDS] = await asyncio.to_thread(Passwords)
    login: MicrosoftLogin | None = None
    if app[keys.SETTINGS].microsoft_login_enabled:
        login = MicrosoftLogin(app[keys.SETTINGS])
        app[web_keys.MICROSOFT] = login
    purger = asyncio.create_task(purge_forever(app))
    yield
    purger.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await purger
    if login is not None:
        login.close()
