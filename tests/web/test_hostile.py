"""Hostile bodies found in review: deep nesting, split bodies, absurd offsets and timestamps."""

from __future__ import annotations

import asyncio
import json
import time

from aiohttp import web
from aiohttp.test_utils import TestClient

from chatwoot.webhooks import sign_webhook
from tests.conftest import WEBHOOK_SECRET, WEBHOOK_TOKEN
from tests.web.conftest import open_ticket, signup

Client = TestClient[web.Request, web.Application]
DEEP = b"[" * 5000 + b"]" * 5000


async def test_deeply_nested_json_is_a_400_not_a_500(web_client: Client) -> None:
    csrf = await signup(web_client, "deep@example.com")
    response = await web_client.post(
        "/api/conversations",
        data=DEEP,
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert (await response.json())["error"] == "bad_json"

    stamp = str(int(time.time()))
    hook = await web_client.post(
        f"/api/chatwoot/webhook?token={WEBHOOK_TOKEN}",
        data=DEEP,
        headers={
            "Content-Type": "application/json",
            "X-Chatwoot-Timestamp": stamp,
            "X-Chatwoot-Signature": sign_webhook(DEEP, WEBHOOK_SECRET, stamp),
        },
    )
    assert hook.status == 400

    bot = await web_client.post(
        "/api/messages", data=DEEP, headers={"Content-Type": "application/json"}
    )
    assert bot.status == 400


async def test_a_body_arriving_in_pieces_is_read_whole(web_client: Client) -> None:
    csrf = await signup(web_client, "slow@example.com")
    body = json.dumps(
        {
            "title": "Chega aos pedaços",
            "description": "x" * 4000,
            "complexity": "baixa",
            "sector": "TI",
        }
    ).encode()

    async def trickle():  # type: ignore[no-untyped-def]
        for start in range(0, len(body), 700):
            yield body[start : start + 700]
            await asyncio.sleep(0.01)

    response = await web_client.post(
        "/api/conversations",
        data=trickle(),
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
    )
    assert response.status == 201, await response.text()
    assert (await response.json())["title"] == "Chega aos pedaços"


async def test_absurd_offset_and_timestamps(web_client: Client) -> None:
    csrf = await signup(web_client, "offset@example.com")
    await open_ticket(web_client, csrf)
    response = await web_client.get("/api/conversations?offset=99999999999999999999")
    assert response.status in (200, 400)
    if response.status == 200:
        assert (await response.json())["conversations"] == []
    for stamp in ("²", "9" * 5000):
        raw = b'{"event": "message_created"}'
        hook = await web_client.post(
            f"/api/chatwoot/webhook?token={WEBHOOK_TOKEN}",
            data=raw,
            headers={
                "Content-Type": "application/json",
                "X-Chatwoot-Timestamp": stamp,
                "X-Chatwoot-Signature": "sha256=" + "0" * 64,
            },
        )
        assert hook.status == 401
