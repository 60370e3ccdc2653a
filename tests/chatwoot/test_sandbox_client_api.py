"""The sandbox's Client API matches Chatwoot: routes, status codes, key sets, swagger schemas."""

from __future__ import annotations

from typing import Any

import pytest

from tests.chatwoot.sandbox_support import (
    Api,
    assert_same_keys,
    load_payload,
    swagger_response_schema,
    swagger_validator,
)

BASE = "/public/api/v1/inboxes/{inbox_identifier}"
CONTACT = BASE + "/contacts/{contact_identifier}"
CONVERSATION = CONTACT + "/conversations/{conversation_id}"


def check_swagger(body: Any, path: str, method: str) -> None:
    """Validate a response body against the swagger's documented 200 schema."""
    swagger_validator(swagger_response_schema(path, method)).validate(body)


async def test_inbox_show_matches_payload_and_swagger(api: Api) -> None:
    status, body = await api.call("GET", "")
    assert status == 200
    assert_same_keys(body, load_payload("public_api", "inbox.show.200.json"))
    assert body["identifier"] == api.sb.config.inbox_identifier
    assert body["name"] == "Chamados"
    # The swagger types the hours as integers, but Chatwoot sends null on closed days (as the
    # reference payload shows), so validate against the swagger with null allowed there.
    validator = swagger_validator({"$ref": "#/components/schemas/public_inbox"})
    for day in body["working_hours"]:
        patched = {k: (0 if v is None else v) for k, v in day.items()}
        validator.validate({**body, "working_hours": [patched]})


async def test_contact_create_show_update(api: Api) -> None:
    status, created = await api.call(
        "POST",
        "/contacts",
        json={"source_id": "teams-jane", "name": "Jane Doe", "email": "jane@example.com"},
    )
    assert status == 200
    assert_same_keys(created, load_payload("public_api", "contacts.create.200.json"))
    check_swagger(created, BASE + "/contacts", "post")
    assert created["source_id"] == "teams-jane"
    assert len(created["pubsub_token"]) == 24

    status, shown = await api.call("GET", "/contacts/teams-jane")
    assert status == 200
    assert shown == created
    assert_same_keys(shown, load_payload("public_api", "contacts.show.200.json"))
    check_swagger(shown, CONTACT, "get")

    status, updated = await api.call(
        "PATCH",
        "/contacts/teams-jane",
        json={"name": "Jane Q. Doe", "email": "", "custom_attributes": {"dept": "IT"}},
    )
    assert status == 200
    assert_same_keys(updated, load_payload("public_api", "contacts.update.200.json"))
    check_swagger(updated, CONTACT, "patch")
    assert updated["name"] == "Jane Q. Doe"
    assert updated["email"] == "jane@example.com"  # blank values are ignored
    assert updated["custom_attributes"] == {"dept": "IT"}
    assert "pubsub_token" not in updated


async def test_contact_create_is_idempotent_on_source_id(api: Api) -> None:
    first = await api.contact("teams-x", "First Name")
    status, again = await api.call(
        "POST", "/contacts", json={"source_id": "teams-x", "name": "Changed"}
    )
    assert status == 200
    assert again == first  # unchanged, not updated


async def test_contact_without_name_gets_random_name_and_uuid_source(api: Api) -> None:
    status, body = await api.call("POST", "/contacts", json={})
    assert status == 200
    assert len(body["name"].split("-")) == 3
    assert len(body["source_id"]) == 36
    assert body["pubsub_token"].isalnum()


async def test_form_encoded_bodies_are_accepted(api: Api) -> None:
    await api.contact()
    status, conv = await api.call(
        "POST",
        "/contacts/teams-jane/conversations",
        data={"custom_attributes[title]": "Printer"},
    )
    assert status == 200
    record = api.sb.state.conversations[conv["id"]]
    assert record.custom_attributes == {"title": "Printer"}
    status, msg = await api.call(
        "POST", f"/contacts/teams-jane/conversations/{conv['id']}/messages", data={"content": "hi"}
    )
    assert status == 200
    assert msg["content"] == "hi"


async def test_invalid_email_is_422(api: Api) -> None:
    status, body = await api.call("POST", "/contacts", json={"email": "not-an-email"})
    assert status == 422
    assert body == load_payload("public_api", "errors.422.record_invalid.contact_email.json")


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/contacts/missing", "GET"),
        ("/contacts/missing/conversations", "GET"),
        ("/contacts/missing", "PATCH"),
    ],
)
async def test_unknown_contact_is_404(api: Api, path: str, method: str) -> None:
    status, body = await api.call(method, path, json={})
    assert status == 404
    assert body == load_payload("public_api", "errors.404.production.json")


async def test_unknown_inbox_is_404(api: Api) -> None:
    async with api.http.get(f"{api.sb.url}/public/api/v1/inboxes/nope/contacts/x") as r:
        assert r.status == 404
        assert await r.json() == {"status": 404, "error": "Not Found"}


async def test_conversation_create_list_show(api: Api) -> None:
    await api.contact()
    status, created = await api.call(
        "POST",
        "/contacts/teams-jane/conversations",
        json={"custom_attributes": {"title": "Laptop", "sector": "IT"}, "status": "resolved"},
    )
    assert status == 200
    assert_same_keys(created, load_payload("public_api", "conversations.create.200.json"))
    check_swagger(created, CONTACT + "/conversations", "post")
    assert created["status"] == "open"  # status is not a permitted param
    assert created["messages"] == []
    assert "custom_attributes" not in created  # the Client API never returns them
    assert api.sb.state.conversations[created["id"]].custom_attributes == {
        "title": "Laptop",
        "sector": "IT",
    }
    await api.message(created["id"], "first")

    status, listed = await api.call("GET", "/contacts/teams-jane/conversations")
    assert status == 200
    assert_same_keys(listed, load_payload("public_api", "conversations.index.200.json"))
    check_swagger(listed, CONTACT + "/conversations", "get")
    assert [c["id"] for c in listed] == [created["id"]]
    assert [m["content"] for m in listed[0]["messages"]] == ["first"]

    status, shown = await api.call("GET", f"/contacts/teams-jane/conversations/{created['id']}")
    assert status == 200
    assert_same_keys(shown, load_payload("public_api", "conversations.show.200.json"))
    check_swagger(shown, CONVERSATION, "get")


async def test_conversation_of_another_contact_is_404(api: Api) -> None:
    await api.contact()
    conv = await api.conversation()
    await api.contact("teams-other", "Other")
    status, body = await api.call("GET", f"/contacts/teams-other/conversations/{conv['id']}")
    assert status == 404
    assert body == {"status": 404, "error": "Not Found"}


async def test_custom_attribute_over_1500_chars_is_422(api: Api) -> None:
    await api.contact()
    status, body = await api.call(
        "POST",
        "/contacts/teams-jane/conversations",
        json={"custom_attributes": {"ticket_ref": "x" * 1501}},
    )
    assert status == 422
    assert body == load_payload(
        "public_api", "errors.422.record_invalid.custom_attribute_too_long.json"
    )
    assert api.sb.state.conversations == {}


async def test_toggle_status_only_resolves(api: Api) -> None:
    await api.contact()
    conv = await api.conversation()
    path = f"/contacts/teams-jane/conversations/{conv['id']}/toggle_status"
    status, body = await api.call("POST", path)
    assert status == 200
    assert body["status"] == "resolved"
    assert_same_keys(body, load_payload("public_api", "conversations.toggle_status.200.json"))
    check_swagger(body, CONVERSATION + "/toggle_status", "post")
    status, again = await api.call("POST", path)
    assert status == 200
    assert again["status"] == "resolved"
    activities = [
        m.content for m in api.sb.state.conversations[conv["id"]].messages if m.message_type == 2
    ]
    assert activities == ["Conversation was resolved by Jane doe"]


async def test_toggle_typing_and_update_last_seen_return_empty_200(api: Api) -> None:
    await api.contact()
    conv = await api.conversation()
    base = f"/contacts/teams-jane/conversations/{conv['id']}"
    assert await api.call("POST", base + "/toggle_typing", json={"typing_status": "on"}) == (
        200,
        None,
    )
    assert await api.call("POST", base + "/update_last_seen") == (200, None)
    assert api.sb.state.conversations[conv["id"]].contact_last_seen_at is not None


async def test_message_create_matches_payload_and_swagger(api: Api) -> None:
    await api.contact()
    conv = await api.conversation()
    msg = await api.message(conv["id"], "My laptop won't boot", echo_id="tmp-1")
    assert_same_keys(msg, load_payload("public_api", "messages.create.200.json"))
    check_swagger(msg, CONVERSATION + "/messages", "post")
    assert msg["message_type"] == 0
    assert msg["conversation_id"] == conv["id"]
    assert "echo_id" not in msg
    assert "private" not in msg
    assert api.sb.state.conversations[conv["id"]].messages[0].echo_id == "tmp-1"


async def test_message_over_150000_chars_is_422(api: Api) -> None:
    await api.contact()
    conv = await api.conversation()
    status, body = await api.call(
        "POST",
        f"/contacts/teams-jane/conversations/{conv['id']}/messages",
        json={"content": "x" * 150_001},
    )
    assert status == 422
    assert body == load_payload("public_api", "errors.422.record_invalid.message_too_long.json")


async def test_message_list_is_latest_20_with_before_and_hides_notes(api: Api) -> None:
    await api.contact()
    conv = await api.conversation()
    ids = [(await api.message(conv["id"], f"m{i}"))["id"] for i in range(25)]
    await api.control(
        "POST", f"/conversations/{conv['id']}/messages", {"content": "secret", "private": True}
    )
    await api.control("POST", f"/conversations/{conv['id']}/assign", {"agent": "Sam"})
    await api.control("POST", f"/conversations/{conv['id']}/messages", {"content": "reply"})
    path = f"/contacts/teams-jane/conversations/{conv['id']}/messages"
    status, latest = await api.call("GET", path)
    assert status == 200
    assert_same_keys(latest, load_payload("public_api", "messages.index.200.json"))
    check_swagger(latest, CONVERSATION + "/messages", "get")
    contents = [m["content"] for m in latest]
    assert len(latest) == 20
    assert contents[-1] == "reply"
    assert "secret" not in contents
    assert all(m["message_type"] != 2 for m in latest)  # no activity lines
    status, older = await api.call("GET", path, params={"before": str(ids[5])})
    assert [m["id"] for m in older] == ids[:5]


async def test_contact_message_reopens_resolved_conversation(api: Api) -> None:
    await api.contact()
    conv = await api.conversation()
    await api.control("POST", f"/conversations/{conv['id']}/status", {"status": "resolved"})
    await api.message(conv["id"], "still broken")
    status, shown = await api.call("GET", f"/contacts/teams-jane/conversations/{conv['id']}")
    assert status == 200
    assert shown["status"] == "open"
