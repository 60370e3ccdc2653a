"""Late snapshots: payloads built when the delivery job runs, in no particular order."""

from __future__ import annotations

import aiohttp

from tests.chatwoot.sandbox_support import (
    Api,
    WebhookReceiver,
    assert_same_keys,
    collect_events,
    drain,
    load_payload,
    subscribe_frame,
)


async def test_switches_round_trip_and_refuse_bad_values(api: Api) -> None:
    assert await api.control("GET", "/switches") == (
        200,
        {"late_snapshots": False, "snapshot_jitter_ms": 300},
    )
    status, body = await api.control(
        "PATCH", "/switches", {"late_snapshots": True, "snapshot_jitter_ms": 50}
    )
    assert (status, body) == (200, {"late_snapshots": True, "snapshot_jitter_ms": 50})
    for bad in ({"late_snapshots": "on"}, {"snapshot_jitter_ms": -1}, {"other": True}):
        status, _ = await api.control("PATCH", "/switches", bad)
        assert status == 400
    assert (await api.control("GET", "/switches"))[1]["snapshot_jitter_ms"] == 50


async def test_resolve_then_quick_reopen_yields_payloads_that_all_say_open(
    api: Api, hooks: WebhookReceiver, http: aiohttp.ClientSession
) -> None:
    await api.control("PATCH", "/switches", {"late_snapshots": True, "snapshot_jitter_ms": 150})
    contact = await api.contact()
    conv = await api.conversation()
    await drain(api.sb)
    await api.sb.desk.cable.flush()  # the create's own jobs are done before we listen
    hooks.deliveries.clear()
    async with http.ws_connect(api.sb.cable_url) as ws:
        await ws.receive_json()
        _, command = subscribe_frame(contact["pubsub_token"])
        await ws.send_json(command)
        await ws.receive_json()
        record = api.sb.state.conversations[int(conv["id"])]
        # Both saves happen before any job can run, as with a quick resolve + reopen.
        api.sb.desk.set_status(record, "resolved", "Sam Agent")
        api.sb.desk.set_status(record, "open", "Sam Agent")
        await drain(api.sb)
        frames = await collect_events(ws, 0.5)
    status_changed = [d.json for d in hooks.of("conversation_status_changed")]
    updated = [d.json for d in hooks.of("conversation_updated")]
    assert len(status_changed) == 2 and len(updated) == 2
    assert {p["status"] for p in status_changed + updated} == {"open"}
    # The change lists are the events' own: one says resolved, the other open.
    currents = sorted(p["changed_attributes"][0]["status"]["current_value"] for p in updated)
    assert currents == ["open", "resolved"]
    cable = [f["message"] for f in frames]
    assert sorted(m["event"] for m in cable) == [
        "conversation.status_changed",
        "conversation.status_changed",
        "conversation.updated",
        "conversation.updated",
    ]
    assert {m["data"]["status"] for m in cable} == {"open"}
    for payload in updated:
        assert_same_keys(payload, load_payload("webhooks", "conversation_updated.resolved.json"))


async def test_jobs_run_out_of_order(
    api: Api, hooks: WebhookReceiver, http: aiohttp.ClientSession
) -> None:
    await api.control("PATCH", "/switches", {"late_snapshots": True, "snapshot_jitter_ms": 300})
    contact = await api.contact()
    conv = await api.conversation()
    record = api.sb.state.conversations[int(conv["id"])]
    await drain(api.sb)
    await api.sb.desk.cable.flush()
    async with http.ws_connect(api.sb.cable_url) as ws:
        await ws.receive_json()
        _, command = subscribe_frame(contact["pubsub_token"])
        await ws.send_json(command)
        await ws.receive_json()
        for n in range(10):
            api.sb.desk.agent_message(record, f"reply {n}", "Sam Agent", private=False)
        frames = await collect_events(ws, 0.8)
    pushed = [f["message"]["data"]["content"] for f in frames]
    assert sorted(pushed) == [f"reply {n}" for n in range(10)]
    assert pushed != sorted(pushed)
    await drain(api.sb)
    arrived = [d.json["content"] for d in hooks.of("message_created")]
    assert sorted(arrived) == [f"reply {n}" for n in range(10)]
    # 10 jittered jobs keep their order once in 3.6 million
    assert arrived != sorted(arrived)


async def test_off_by_default_payloads_are_event_time_and_ordered(
    api: Api, hooks: WebhookReceiver
) -> None:
    await api.contact()
    conv = await api.conversation()
    record = api.sb.state.conversations[int(conv["id"])]
    api.sb.desk.set_status(record, "resolved", "Sam Agent")
    api.sb.desk.set_status(record, "open", "Sam Agent")
    await drain(api.sb)
    assert [d.json["status"] for d in hooks.of("conversation_status_changed")] == [
        "resolved",
        "open",
    ]
