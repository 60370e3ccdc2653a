"""The sandbox behaves like Chatwoot: inbox settings, auto-assignment, agent-side changes."""

from __future__ import annotations

import time
from typing import Any

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


def assert_same_types(actual: Any, expected: Any, where: str = "$") -> None:
    """Assert the key sets match and every value has the recorded JSON type (null matches any)."""
    if actual is None or expected is None:
        return
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        assert set(actual) == set(expected), f"{where}: {set(actual) ^ set(expected)}"
        for key in expected:
            if key == "changed_attributes":
                assert_changes(actual[key], f"{where}.{key}")
            elif key not in ("custom_attributes", "additional_attributes", "content_attributes"):
                assert_same_types(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), where
        if actual and expected:
            assert_same_types(actual[0], expected[0], f"{where}[0]")
    elif isinstance(expected, bool) or isinstance(actual, bool):
        assert type(actual) is type(expected), where
    elif isinstance(expected, int | float):
        assert isinstance(actual, type(expected)), f"{where}: {actual!r} vs {expected!r}"
    else:
        assert type(actual) is type(expected), f"{where}: {actual!r} vs {expected!r}"


def assert_changes(actual: Any, where: str) -> None:
    """Assert Chatwoot's change list: one single-key object per column, previous and current."""
    assert isinstance(actual, list) and actual, where
    for entry in actual:
        assert isinstance(entry, dict) and len(entry) == 1, where
        (change,) = entry.values()
        assert set(change) == {"previous_value", "current_value"}, where


async def agent(api: Api, name: str, **extra: Any) -> Any:
    status, body = await api.control("POST", "/agents", {"name": name, **extra})
    assert status == 200, body
    return body


async def test_inbox_settings_round_trip_and_show_in_the_client_api(api: Api) -> None:
    status, first = await api.control("GET", "/inbox")
    assert status == 200
    assert first["enable_auto_assignment"] is False  # the library default; the CLI turns it on
    assert first["lock_to_single_conversation"] is False
    change = {
        "enable_auto_assignment": True,
        "csat_survey_enabled": True,
        "greeting_enabled": True,
        "lock_to_single_conversation": True,
        "working_hours_enabled": True,
        "out_of_office_message": "Fora do horário / Out of office",
        "timezone": "America/Sao_Paulo",
    }
    status, body = await api.control("PATCH", "/inbox", change)
    assert status == 200
    assert {k: body[k] for k in change} == change
    assert (await api.control("GET", "/inbox"))[1] == body
    status, inbox = await api.call("GET", "")
    assert status == 200
    assert inbox["csat_survey_enabled"] is True and inbox["greeting_enabled"] is True
    assert inbox["working_hours_enabled"] is True and inbox["timezone"] == "America/Sao_Paulo"
    assert_same_keys(inbox, load_payload("public_api", "inbox.show.200.json"))


async def test_bad_inbox_settings_are_refused_and_change_nothing(api: Api) -> None:
    _, before = await api.control("GET", "/inbox")
    for bad in (
        {"enable_auto_assignment": "yes"},
        {"no_such_setting": True},
        {"timezone": "Mars/Olympus"},
        {"working_hours": [{"day_of_week": 9}]},
        {"greeting_enabled": True, "csat_survey_enabled": 1},
    ):
        status, body = await api.control("PATCH", "/inbox", bad)
        assert status in (400, 422), (bad, body)
        assert body["error"]
    assert (await api.control("GET", "/inbox"))[1] == before


async def test_auto_assignment_assigns_an_online_agent_before_the_create_answers(
    api: Api, hooks: WebhookReceiver
) -> None:
    await agent(api, "Offline Olga", availability="offline")
    sam = await agent(api, "Sam Agent", available_name="Sam")
    await api.control("PATCH", "/inbox", {"enable_auto_assignment": True})
    contact = await api.contact()
    async with api.http.ws_connect(api.sb.cable_url) as ws:
        await ws.receive_json()
        _, command = subscribe_frame(contact["pubsub_token"])
        await ws.send_json(command)
        await ws.receive_json()
        conv = await api.conversation()
        # Already delivered when the create answered: nothing waited for.
        updated = hooks.of("conversation_updated")
        assert len(updated) == 1
        frames = await collect_events(ws, 0.3)
    payload = updated[0].json
    assert payload["id"] == conv["id"]
    assert payload["meta"]["assignee"]["id"] == sam["id"]
    assert payload["meta"]["assignee"]["available_name"] == "Sam"
    assert payload["meta"]["assignee"]["name"] == "Sam Agent"
    assert payload["changed_attributes"][0] == {
        "assignee_id": {"previous_value": None, "current_value": sam["id"]}
    }
    assert_same_types(payload, load_payload("webhooks", "conversation_updated.assigned.json"))
    events = [f["message"]["event"] for f in frames]
    assert events == ["conversation.created", "conversation.updated"]
    pushed = frames[1]["message"]["data"]
    assert pushed["meta"]["assignee"]["available_name"] == "Sam"
    assert_same_keys(frames[1], load_payload("cable", "conversation.updated.json"))
    # The Client API conversation has no assignee, as in Chatwoot.
    assert "assignee" not in conv and "meta" not in conv


async def test_auto_assignment_balances_and_respects_the_setting(api: Api) -> None:
    await agent(api, "Ana")
    await agent(api, "Bruno")
    await api.contact()
    unassigned = await api.conversation()
    _, record = await api.control("GET", f"/conversations/{unassigned['id']}")
    assert record["assignee"] is None  # setting off: nobody assigned
    await api.control("PATCH", "/inbox", {"enable_auto_assignment": True})
    names = []
    for _ in range(4):
        conv = await api.conversation()
        _, record = await api.control("GET", f"/conversations/{conv['id']}")
        names.append(record["assignee"]["name"])
    assert sorted(names) == ["Ana", "Ana", "Bruno", "Bruno"]


async def test_lock_to_single_conversation_returns_the_last_one(api: Api) -> None:
    await api.contact()
    first = await api.conversation()
    await api.control("PATCH", "/inbox", {"lock_to_single_conversation": True})
    again = await api.conversation()
    assert again["id"] == first["id"]
    await api.control("POST", f"/conversations/{first['id']}/status", {"status": "resolved"})
    still = await api.conversation()
    assert (still["id"], still["status"]) == (first["id"], "resolved")
    await api.contact("teams-bob", "Bob")
    status, other = await api.call(
        "POST", "/contacts/teams-bob/conversations", json={"custom_attributes": {}}
    )
    assert status == 200 and other["id"] != first["id"]


async def _updates(api: Api, hooks: WebhookReceiver) -> list[Any]:
    await drain(api.sb)
    return [d.json for d in hooks.of("conversation_updated")]


async def test_labels_priority_team_and_custom_attributes_emit_full_changes(
    api: Api, hooks: WebhookReceiver
) -> None:
    await api.contact()
    conv = await api.conversation(ticket_ref="TCK-1")
    path = f"/conversations/{conv['id']}"
    assert (await api.control("POST", path + "/labels", {"labels": ["setor-ti", "vip"]}))[0] == 200
    assert (await api.control("POST", path + "/priority", {"priority": "high"}))[0] == 200
    assert (await api.control("POST", path + "/team", {"team": "it-support"}))[0] == 200
    status, record = await api.control(
        "POST", path + "/custom_attributes", {"custom_attributes": {"ticket_ref": "TCK-2"}}
    )
    assert status == 200
    assert record["labels"] == ["setor-ti", "vip"] and record["priority"] == "high"
    assert record["team"]["name"] == "it-support"
    updates = await _updates(api, hooks)
    changed = [list(u["changed_attributes"][0]) for u in updates]
    assert changed == [["label_list"], ["priority"], ["team_id"], ["custom_attributes"]]
    for update in updates:
        assert list(update["changed_attributes"][-1]) == ["updated_at"]
    labels, priority, team, attributes = updates
    assert labels["changed_attributes"][0]["label_list"] == {
        "previous_value": [],
        "current_value": ["setor-ti", "vip"],
    }
    assert labels["labels"] == ["setor-ti", "vip"]
    assert priority["changed_attributes"][0]["priority"]["current_value"] == "high"
    assert priority["priority"] == "high"
    assert team["meta"]["team"] == {
        "id": team["changed_attributes"][0]["team_id"]["current_value"],
        "name": "it-support",
    }
    assert attributes["changed_attributes"][0]["custom_attributes"] == {
        "previous_value": {"ticket_ref": "TCK-1"},
        "current_value": {"ticket_ref": "TCK-2"},
    }
    expected = load_payload("webhooks", "conversation_updated.custom_attributes.json")
    for update in updates:
        assert_same_types(update, expected)


async def test_unchanged_values_emit_nothing_and_bad_values_are_refused(
    api: Api, hooks: WebhookReceiver
) -> None:
    await api.contact()
    conv = await api.conversation()
    path = f"/conversations/{conv['id']}"
    await api.control("POST", path + "/priority", {"priority": "low"})
    await api.control("POST", path + "/priority", {"priority": "low"})
    for route, body in (
        ("/priority", {"priority": "critical"}),
        ("/labels", {"labels": "vip"}),
        ("/labels", {"labels": [1, 2]}),
        ("/team", {"team": 7}),
        ("/custom_attributes", {"custom_attributes": {"x": "y" * 1501}}),
        ("/snooze", {"snoozed_until": "tomorrow"}),
    ):
        status, answer = await api.control("POST", path + route, body)
        assert status == 422, (route, answer)
    status, answer = await api.control("POST", path + "/labels", {})
    assert status == 400
    assert len(await _updates(api, hooks)) == 1
    _, record = await api.control("GET", path)
    assert record["priority"] == "low" and record["labels"] == []


async def test_snooze_then_reply_clears_the_snooze(api: Api, hooks: WebhookReceiver) -> None:
    await api.contact()
    conv = await api.conversation()
    path = f"/conversations/{conv['id']}"
    until = int(time.time()) + 3600
    status, record = await api.control("POST", path + "/snooze", {"snoozed_until": until})
    assert (status, record["status"], record["snoozed_until"]) == (200, "snoozed", until)
    await api.message(int(conv["id"]), "Any news?")
    updates = await _updates(api, hooks)
    snoozed, reopened = updates
    assert [next(iter(c)) for c in snoozed["changed_attributes"]] == [
        "status",
        "snoozed_until",
        "updated_at",
    ]
    assert snoozed["snoozed_until"].endswith("Z") and snoozed["status"] == "snoozed"
    assert [next(iter(c)) for c in reopened["changed_attributes"]] == [
        "status",
        "snoozed_until",
        "updated_at",
    ]
    assert reopened["snoozed_until"] is None and reopened["status"] == "open"
    statuses = [d.json["status"] for d in hooks.of("conversation_status_changed")]
    assert statuses == ["snoozed", "open"]


async def test_messages_after_and_between_follow_chatwoots_finder(api: Api) -> None:
    await api.contact()
    conv = await api.conversation()
    cid = int(conv["id"])
    ids = [(await api.message(cid, f"m{i}"))["id"] for i in range(130)]
    base = f"/contacts/teams-jane/conversations/{cid}/messages"
    status, after = await api.call("GET", f"{base}?after={ids[9]}")
    assert status == 200
    assert [m["id"] for m in after] == ids[10:110]  # up to 100, ascending
    _, between = await api.call("GET", f"{base}?after={ids[9]}&before={ids[20]}")
    assert [m["id"] for m in between] == ids[10:20]
    _, before = await api.call("GET", f"{base}?before={ids[50]}")
    assert [m["id"] for m in before] == ids[30:50]
    _, latest = await api.call("GET", base)
    assert [m["id"] for m in latest] == ids[-20:]
    _, nonsense = await api.call("GET", f"{base}?after=abc")
    assert [m["id"] for m in nonsense] == ids[:100]  # Ruby's to_i: 0
    assert_same_keys(after[0], load_payload("public_api", "messages.index.200.json")[0])


async def test_application_api_labels_replace_and_priority_toggles(
    api: Api, hooks: WebhookReceiver, http: aiohttp.ClientSession
) -> None:
    api.sb.state.config.api_access_token = "app-token-123"
    await api.contact()
    conv = await api.conversation()
    await api.control("POST", f"/conversations/{conv['id']}/labels", {"labels": ["from-rule"]})
    base = f"{api.sb.url}/api/v1/accounts/1/conversations/{conv['id']}"
    headers = {"api_access_token": "app-token-123"}
    async with http.post(f"{base}/labels", json={"labels": ["setor-ti"]}, headers=headers) as r:
        assert r.status == 200
        assert await r.json() == {"payload": ["setor-ti"]}  # replaced, not added
    async with http.get(f"{base}/labels", headers=headers) as r:
        assert await r.json() == {"payload": ["setor-ti"]}
    async with http.post(
        f"{base}/toggle_priority", json={"priority": "urgent"}, headers=headers
    ) as r:
        assert r.status == 200
    async with http.post(f"{base}/toggle_priority", json={"priority": "x"}, headers=headers) as r:
        assert r.status == 422
    for bad in ({}, {"api_access_token": "wrong"}):
        async with http.get(f"{base}/labels", headers=bad) as r:
            assert (r.status, await r.json()) == (401, {"error": "Invalid Access Token"})
    async with http.get(
        f"{api.sb.url}/api/v1/accounts/1/conversations/999/labels", headers=headers
    ) as r:
        assert r.status == 404
    async with http.get(
        f"{api.sb.url}/api/v1/accounts/2/conversations/{conv['id']}/labels", headers=headers
    ) as r:
        assert r.status == 401
    updates = await _updates(api, hooks)
    assert updates[1]["changed_attributes"][0]["label_list"] == {
        "previous_value": ["from-rule"],
        "current_value": ["setor-ti"],
    }
    assert updates[2]["priority"] == "urgent"


async def test_agents_have_a_display_name_distinct_from_the_name(api: Api) -> None:
    sam = await agent(api, "Samuel Agent", available_name="Sam")
    assert (sam["name"], sam["available_name"]) == ("Samuel Agent", "Sam")
    plain = await agent(api, "Pat")
    assert plain["available_name"] == "Pat"  # Chatwoot falls back to the name
    status, listed = await api.control("GET", "/agents")
    assert status == 200 and [a["name"] for a in listed] == ["Samuel Agent", "Pat"]
    status, _ = await api.control("POST", "/agents", {"name": "X", "availability": "away"})
    assert status == 400
