"""Typed application keys shared by the sandbox's route modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from sandbox.desk import Desk

DESK: web.AppKey[Desk] = web.AppKey("sandbox_desk")
