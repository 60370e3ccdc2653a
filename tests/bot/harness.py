"""Drive the real bot endpoint as Teams does: signed activities in, replies at the fake."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp

from tests.fakes.connector import FakeConnector, Received
from tests.fakes.teams_idp import TeamsIdentityProvider

APP_ID = "00000000-0000-4000-8000-00000000b07"
APP_PASSWORD = "bot-client-secret-for-tests"
TENANT = "11111111-2222-4333-8444-555555555555"

_ids = itertools.count(1)


class TeamsUser:
    """One Teams user in a 1:1 chat with the bot; every call is signed like Teams signs it."""

    def __init__(
        self,
        endpoint: str,
        connector: FakeConnector,
        idp: TeamsIdentityProvider | None,
        *,
        oid: str | None = None,
        name: str = "Ana Souza",
        locale: str = "pt-BR",
        app_id: str = APP_ID,
        tenant: str = TENANT,
    ) -> None:
        self.endpoint = endpoint
        self.connector = connector
        self.idp = idp
        self.oid = oid or str(uuid.uuid4())
        self.member_id = f"29:{self.oid}"
        self.name = name
        self.locale = locale
        self.app_id = app_id
        self.tenant = tenant
        self.conversation_id = f"a:chat-{self.oid}"
        # Teams knows every chat's tenant; the SDK's replies in a turn do not name it (the
        # incoming `tenantId` is not a field of its ConversationAccount), so tell the fake, or
        # it could not count those replies against the tenant's limit.
        connector.set_tenant(self.conversation_id, tenant)
        connector.add_member(
            self.conversation_id,
            {
                "id": self.member_id,
                "name": name,
                "aadObjectId": self.oid,
                "email": f"{self.oid[:8]}@contoso.example",
                "userPrincipalName": f"{self.oid[:8]}@contoso.example",
                "tenantId": tenant,
            },
        )

    # ---- activities ---------------------------------------------------------------------------

    def activity(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Build an activity as Teams sends it in a personal chat."""
        activity: dict[str, Any] = {
            "type": kind,
            "id": f"in-{next(_ids)}",
            "timestamp": datetime.now(UTC).isoformat(),
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": {"id": self.member_id, "name": self.name, "aadObjectId": self.oid},
            "conversation": {
                "id": self.conversation_id,
                "conversationType": "personal",
                "tenantId": self.tenant,
            },
            "recipient": {"id": f"28:{self.app_id}", "name": "Chamados"},
            "locale": self.locale,
            "channelData": {"tenant": {"id": self.tenant}},
        }
        activity.update(fields)
        return activity

    def install(self) -> dict[str, Any]:
        """The installationUpdate Teams sends when the user adds the app."""
        return self.activity("installationUpdate", action="add")

    def uninstall(self) -> dict[str, Any]:
        """The installationUpdate Teams sends when the user removes the app."""
        return self.activity("installationUpdate", action="remove")

    def message(self, text: str) -> dict[str, Any]:
        """A typed message."""
        return self.activity("message", text=text, textFormat="plain")

    def execute(
        self, verb: str, data: Mapping[str, Any], reply_to: str | None = None
    ) -> dict[str, Any]:
        """An Action.Execute click (``data`` holds the card's inputs merged in, as Teams does)."""
        value = {"action": {"type": "Action.Execute", "verb": verb, "data": dict(data)}}
        fields: dict[str, Any] = {"name": "adaptiveCard/action", "value": value}
        if reply_to:
            fields["replyToId"] = reply_to
        return self.activity("invoke", **fields)

    def submit(
        self, verb: str, data: Mapping[str, Any], reply_to: str | None = None
    ) -> dict[str, Any]:
        """An Action.Submit click: a message whose value is the data plus the inputs."""
        fields: dict[str, Any] = {"value": {"verb": verb, **data}}
        if reply_to:
            fields["replyToId"] = reply_to
        return self.activity("message", **fields)

    # ---- transport ----------------------------------------------------------------------------

    def authorization(self, activity: Mapping[str, Any]) -> str | None:
        """A valid bearer header for the activity (none without an identity provider)."""
        if self.idp is None:
            return None
        return "Bearer " + self.idp.token(self.app_id, str(activity["serviceUrl"]))

    async def post(
        self,
        activity: Mapping[str, Any],
        *,
        authorization: str | Callable[[], str | None] | None = "valid",
    ) -> tuple[int, Any]:
        """POST an activity to the bot; return (status, JSON body or None)."""
        if authorization == "valid":
            header = self.authorization(activity)
        elif callable(authorization):
            header = authorization()
        else:
            header = authorization
        headers = {"Authorization": header} if header else {}
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.endpoint, json=activity, headers=headers) as answer,
        ):
            body = await answer.json() if answer.content_type == "application/json" else None
            return answer.status, body

    async def send(self, activity: Mapping[str, Any]) -> Any:
        """POST an activity that must be accepted; return the invoke body (if any)."""
        status, body = await self.post(activity)
        assert status in (200, 201), (status, body)
        return body

    # ---- what the user sees -------------------------------------------------------------------

    def inbox(self) -> list[Received]:
        """Messages the bot posted to this chat."""
        return self.connector.sent(self.conversation_id)

    def updates(self) -> list[Received]:
        """In-place updates the bot made in this chat."""
        return self.connector.updates(self.conversation_id)

    def last_card(self) -> dict[str, Any]:
        """The last card the bot posted."""
        for received in reversed(self.inbox()):
            if received.card is not None:
                return received.card
        raise AssertionError("no card in the chat")


def find_action(card: Mapping[str, Any], verb: str) -> dict[str, Any]:
    """Find the first Action.Execute with ``verb`` anywhere in a card."""
    found = _find(card, verb)
    if found is None:
        raise AssertionError(f"no {verb} action in card")
    return found


def _find(node: Any, verb: str) -> dict[str, Any] | None:
    if isinstance(node, dict):
        if node.get("type") == "Action.Execute" and node.get("verb") == verb:
            return node
        for value in node.values():
            found = _find(value, verb)
            if found is not None:
                return found
    elif isinstance(node, list):
        for item in node:
            found = _find(item, verb)
            if found is not None:
                return found
    return None


def card_texts(card: Any) -> str:
    """All the text a card shows, joined (for "does it say X" assertions)."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("text", "title", "value", "label", "placeholder"):
                if isinstance(node.get(key), str):
                    parts.append(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(parts)


def input_values(card: Any) -> dict[str, str]:
    """The current value of every input in a card, by id."""
    values: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input.") and "id" in node:
                values[node["id"]] = str(node.get("value", ""))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return values
