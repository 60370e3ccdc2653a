"""`POST /api/chatwoot/webhook`: authenticate on the raw bytes, then one ingest per event."""

from __future__ import annotations

import hmac
import logging

from aiohttp import web

from chatwoot.errors import WebhookPayloadError, WebhookSignatureError
from chatwoot.webhooks import WebhookDelivery, read_webhook
from db.ingest import STORE_ERRORS, Receipt
from tickets import keys, trace
from web.http import read_body
from web.keys import WEBHOOK_LOAD, WebhookLoad

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Chatwoot payloads are a few KB; refuse anything absurd early.
# Deliveries waiting beyond this many would not be answered inside Chatwoot's 5 s timeout on
# 2 cores (about 600 ingests/s per process with the Teams sends they queue, 1,300 without:
# docs/performance.md); past it we answer 503 at once and read the conversations back through
# the Client API instead (the cable carries the same events too).
MAX_INFLIGHT = 256


def setup_webhook(app: web.Application, *, max_inflight: int = MAX_INFLIGHT) -> None:
    """Register the webhook route."""
    app[WEBHOOK_LOAD] = WebhookLoad(max_inflight)
    app.router.add_post("/api/chatwoot/webhook", chatwoot_webhook)


def _refuse(status: int, error: str) -> web.Response:
    return web.json_response({"error": error}, status=status)


async def chatwoot_webhook(request: web.Request) -> web.Response:
    """Verify the token and the signature, parse and ingest the events."""
    trace.mark("webhook.received")
    settings = request.app[keys.SETTINGS]
    expected = settings.CHATWOOT_WEBHOOK_TOKEN.get_secret_value()
    given = request.query.get("token", "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return _refuse(401, "invalid webhook token")
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _refuse(413, "body too large")
    try:
        raw = await read_body(request, MAX_BODY)
    except web.HTTPRequestEntityTooLarge:
        return _refuse(413, "body too large")
    secret = settings.CHATWOOT_WEBHOOK_SECRET.get_secret_value()
    if not secret:
        # Settings require one; without it a URL token alone would let anyone write as agents.
        return _refuse(401, "webhook signing is not configured")
    try:
        delivery = read_webhook(raw, request.headers, secret=secret)
    except WebhookSignatureError as exc:
        log.warning("webhook refused: %s", exc.reason)
        return _refuse(401, exc.reason)
    except WebhookPayloadError as exc:
        return _refuse(400, str(exc))
    load = request.app[WEBHOOK_LOAD]
    if load.inflight >= load.limit:
        load.shed += 1
        _request_catch_up(request.app, "webhook shed")
        return _refuse(503, "overloaded; the event will be read back from Chatwoot")
    load.inflight += 1
    try:
        return await _ingest(request, delivery)
    finally:
        load.inflight -= 1


def _request_catch_up(app: web.Application, reason: str) -> None:
    relay = app.get(keys.RELAY)
    if relay is not None:
        relay.request_catch_up(reason)


async def _ingest(request: web.Request, delivery: WebhookDelivery) -> web.Response:
    ingestor = request.app[keys.INGESTOR]
    kind = delivery.kind
    try:
        done = await ingestor.ingest_delivery(
            delivery.events, Receipt(delivery_id=delivery.delivery_id, event=kind)
        )
    except STORE_ERRORS:
        log.exception("webhook %s could not be stored", kind)
        # Chatwoot never retries a webhook: read the conversation back once the database is up.
        _request_catch_up(request.app, "webhook not stored")
        return _refuse(503, "temporarily unavailable")
    trace.mark("webhook.stored")
    outcomes = [str(outcome) for outcome in done]
    return web.json_response({"ok": True, "event": kind, "outcomes": outcomes})
