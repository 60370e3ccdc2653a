"""Typed application keys of the core; the front doors declare theirs in `web.keys`, `bot.keys`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg
import httpx
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tickets.settings import Settings

if TYPE_CHECKING:
    from chatwoot.client import ChatwootClient
    from tickets.accounts import AccountMail
    from tickets.answers import AnswerService
    from tickets.help import HelpService
    from tickets.hub import Hub
    from tickets.ingest import Ingestor
    from tickets.mail_worker import MailWorker
    from tickets.presence import PresenceService
    from tickets.relay import CableRelay
    from tickets.service import TicketService

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
# Plain asyncpg connections for the hot path of ingest (no ORM there).
POOL = web.AppKey("pool", asyncpg.Pool)
SESSIONMAKER: web.AppKey[async_sessionmaker[AsyncSession]] = web.AppKey("sessionmaker")
HTTP = web.AppKey("http", httpx.AsyncClient)
CHATWOOT: web.AppKey[ChatwootClient] = web.AppKey("chatwoot")
HUB: web.AppKey[Hub] = web.AppKey("hub")
SERVICE: web.AppKey[TicketService] = web.AppKey("service")
# Ratings, answers to bot questions and "resolved, thanks" (tickets/answers.py).
ANSWERS: web.AppKey[AnswerService] = web.AppKey("answers")
# Typing and read receipts, relayed to Chatwoot debounced.
PRESENCE: web.AppKey[PresenceService] = web.AppKey("presence")
# Help Center suggestions and their counts (suggests nothing when no portal is configured).
HELP: web.AppKey[HelpService] = web.AppKey("help")
INGESTOR: web.AppKey[Ingestor] = web.AppKey("ingestor")
RELAY: web.AppKey[CableRelay] = web.AppKey("relay")
MAIL_WORKER: web.AppKey[MailWorker] = web.AppKey("mail_worker")
ACCOUNT_MAIL: web.AppKey[AccountMail] = web.AppKey("account_mail")
