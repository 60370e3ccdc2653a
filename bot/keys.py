"""Typed application keys of the Teams front door (kept here so the core never imports `bot`)."""

from __future__ import annotations

from aiohttp import web

from bot.gateway import TeamsGateway
from bot.outbox import OutboxWorker

TEAMS_GATEWAY = web.AppKey("teams_gateway", TeamsGateway)
OUTBOX = web.AppKey("outbox", OutboxWorker)
