"""Typed application keys of the web front door (here, so the core never imports `web`)."""

from __future__ import annotations

from aiohttp import web

from web.fanout import Fanout
from web.listfeed import ListFeed
from web.microsoft import MicrosoftLogin
from web.passwords import Passwords

PASSWORDS = web.AppKey("web_passwords", Passwords)
# Present only when the Microsoft login is configured.
MICROSOFT = web.AppKey("web_microsoft", MicrosoftLogin)
# Every open /ws socket, so shutdown can close them with 1001 (going away).
SOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("web_sockets")
# Each user's open sockets, oldest first: past the cap the oldest is closed.
USER_SOCKETS: web.AppKey[dict[int, list[web.WebSocketResponse]]] = web.AppKey("web_user_sockets")
STATIC_VERSION = web.AppKey("web_static_version", str)


class WebhookLoad:
    """Count webhook deliveries being ingested, to shed load before Chatwoot's 5 s timeout."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.inflight = 0
        self.shed = 0


WEBHOOK_LOAD = web.AppKey("web_webhook_load", WebhookLoad)
# The /ws fan-out: one database read per changed ticket for all of this process's sockets.
FANOUT = web.AppKey("web_fanout", Fanout)
# The live ticket lists: a `ticket` frame per changed ticket and the unread total.
LISTFEED = web.AppKey("web_listfeed", ListFeed)
