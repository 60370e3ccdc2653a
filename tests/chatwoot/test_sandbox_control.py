"""The sandbox's control API, fault switches and agent console."""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp
import pytest

from sandbox import SandboxConfig, SandboxServer, run_sandbox
from tests.chatwoot.sandbox_support import Api, WebhookReceiver, drain, subscribe_frame


async def test_record_of_truth_holds_everything(api: Api) -> None:
    await api.contact()
    conv = await api.conversation(title="Laptop")
    cid = conv["id"]
    await api.message(cid, "help", echo_id="e-1")
    await api.control("POST", f"/conversations/{cid}/messages", {"content": "n", "private": True})
    await api.control("POST", f"/conversations/{cid}/assign", {"agent": "Sam"})
    status, listed = await api.control("GET", "/conversations")
    assert status == 200
    (record,) = listed
    assert record["status"] == "open"
    assert record["assignee"]["name"] == "Sam"
    assert record["custom_attributes"] == {"title": "Laptop"}
    assert record["contact"]["source_id"] == "teams-jane"
    kinds = [(m["message_type"], m["private"], m["echo_id"]) for m in record["messages"]]
    assert kinds == [
        ("incoming", False, "e-1"),
        ("outgoing", True, None),
        ("activity", False, None),
    ]
    assert record["messages"][0]["sender"] == {"type": "contact", "id": 101, "name": "Jane Doe"}
    assert record["messages"][1]["sender"]["type"] == "user"
    assert record["messages"][2]["content"] == "Sam self-assigned this conversation"


async def test_assign_unassign_and_status_activity_lines(api: Api) -> None:
    await api.contact()
    cid = (await api.conversation())["id"]
    await api.control("POST", f"/conversations/{cid}/assign", {"agent": "Sam", "by": "Ana"})
    await api.control("POST", f"/conversations/{cid}/assign", {"agent": None, "by": "Ana"})
    for status in ("pending", "snoozed", "open", "resolved"):
        code, body = await api.control(
            "POST", f"/conversations/{cid}/status", {"status": status, "agent": "Ana"}
        )
        assert code == 200
        assert body["status"] == status
    _, record = await api.control("GET", f"/conversations/{cid}")
    assert [m["content"] for m in record["messages"]] == [
        "Assigned to Sam by Ana",
        "Conversation unassigned by Ana",
        "Conversation was marked as pending by Ana",
        "Conversation was snoozed by Ana",
        "Conversation was reopened by Ana",
        "Conversation was marked resolved by Ana",
    ]
    assert record["assignee"] is None


async def test_control_errors(api: Api) -> None:
    assert (await api.control("POST", "/conversations/999/messages", {"content": "x"}))[0] == 404
    await api.contact()
    cid = (await api.conversation())["id"]
    code, body = await api.control("POST", f"/conversations/{cid}/status", {"status": "closed"})
    assert code == 422
    assert body["attributes"] == ["status"]
    assert (await api.control("POST", f"/conversations/{cid}/messages", {}))[0] == 400


async def test_http_status_fault_with_count(api: Api) -> None:
    await api.control("POST", "/faults", {"http_status": 503, "count": 2})
    first = await api.call("GET", "")
    second = await api.call("GET", "")
    third = await api.call("GET", "")
    assert first == (503, {"status": 503, "error": "Service Unavailable"})
    assert second[0] == 503
    assert third[0] == 200


async def test_http_500_fault_until_cleared(api: Api) -> None:
    await api.control("POST", "/faults", {"http_status": 500})
    assert await api.call("POST", "/contacts", json={}) == (
        500,
        {"status": 500, "error": "Internal Server Error"},
    )
    assert api.sb.state.contacts == {}  # the request did nothing
    assert (await api.call("GET", ""))[0] == 500
    code, faults = await api.control("POST", "/faults", {})
    assert code == 200
    assert faults["http_status"] is None
    assert (await api.call("GET", ""))[0] == 200


async def test_429_fault_is_rack_attack_plain_text(api: Api) -> None:
    await api.control("POST", "/faults", {"http_status": 429, "count": 1})
    async with api.http.get(api.base) as r:
        assert r.status == 429
        assert r.content_type == "text/plain"
        assert await r.text() == "Retry later\n"
        assert "Retry-After" not in r.headers


async def test_delay_fault_slows_client_api_only(api: Api) -> None:
    await api.control("POST", "/faults", {"delay_ms": 300})
    started = time.monotonic()
    assert (await api.call("GET", ""))[0] == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    await api.control("GET", "/conversations")
    assert time.monotonic() - started < 0.3


async def test_webhook_drop_fault(api: Api, hooks: WebhookReceiver) -> None:
    await api.control("POST", "/faults", {"webhook_drop": True})
    await api.contact()
    await api.conversation()
    await drain(api.sb)
    assert hooks.deliveries == []
    await api.control("POST", "/faults", {"webhook_drop": 1})
    await api.conversation()
    await api.conversation()
    await drain(api.sb)
    assert hooks.events() == ["conversation_created"]  # the first one was dropped


async def test_webhook_duplicate_fault(api: Api, hooks: WebhookReceiver) -> None:
    await api.control("POST", "/faults", {"webhook_duplicate": 3})
    await api.contact()
    await drain(api.sb)
    assert hooks.events() == ["contact_created"] * 3
    assert len({d.body for d in hooks.deliveries}) == 1
    assert len({d.headers["X-Chatwoot-Delivery"] for d in hooks.deliveries}) == 3


async def test_webhook_reorder_fault(api: Api, hooks: WebhookReceiver) -> None:
    await api.contact()
    cid = (await api.conversation())["id"]
    await drain(api.sb)
    hooks.deliveries.clear()
    await api.control("POST", "/faults", {"webhook_reorder": True})
    for i in range(4):
        await api.control("POST", f"/conversations/{cid}/messages", {"content": f"r{i}"})
    await drain(api.sb)
    assert [d.json["content"] for d in hooks.deliveries] == ["r1", "r0", "r3", "r2"]


async def test_cable_cut_fault_closes_sockets(api: Api) -> None:
    contact = await api.contact()
    async with api.http.ws_connect(api.sb.cable_url) as ws:
        await ws.receive_json()
        _, command = subscribe_frame(contact["pubsub_token"])
        await ws.send_json(command)
        await ws.receive_json()
        code, body = await api.control("POST", "/faults", {"cable_cut": True})
        assert code == 200
        assert body["cable_cut"] == 1
        async with asyncio.timeout(2):
            while True:
                msg = await ws.receive()
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    break
    assert ws.closed


async def test_reset_wipes_state(api: Api) -> None:
    await api.contact()
    await api.conversation()
    await api.control("POST", "/faults", {"delay_ms": 10})
    assert await api.control("POST", "/reset") == (200, {"ok": True})
    assert (await api.control("GET", "/conversations"))[1] == []
    assert (await api.control("GET", "/faults"))[1]["delay_ms"] == 0
    assert (await api.call("GET", "/contacts/teams-jane"))[0] == 404


async def test_server_start_stop_and_custom_config(http: aiohttp.ClientSession) -> None:
    config = SandboxConfig(inbox_identifier="abcdefghijklmnopqrstuvwx", inbox_name="Help")
    server = SandboxServer(config)
    url = await server.start()
    try:
        assert url.startswith("http://127.0.0.1:")
        async with http.get(f"{url}/public/api/v1/inboxes/abcdefghijklmnopqrstuvwx") as r:
            assert (await r.json())["name"] == "Help"
    finally:
        await server.stop()


async def test_run_sandbox_serves_until_cancelled(
    http: aiohttp.ClientSession, capsys: pytest.CaptureFixture[str]
) -> None:
    task = asyncio.create_task(run_sandbox("127.0.0.1", 0, SandboxConfig()))
    out = ""
    async with asyncio.timeout(5):
        while "cable:" not in out:
            await asyncio.sleep(0.05)
            out += capsys.readouterr().out
    url = out.splitlines()[0].split(": ", 1)[1].strip()
    async with http.get(f"{url}/sandbox/api/conversations") as r:
        assert r.status == 200
        assert await r.json() == []
    assert "/public/api/v1/inboxes/sandboxinbox0000000000001" in out
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.cancelled()
