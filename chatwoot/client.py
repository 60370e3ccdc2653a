"""Chatwoot Client API client (httpx): typed results, typed errors, retries only where safe."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx

from chatwoot.errors import ChatwootUnavailable
from chatwoot.models import (
    Assignee,
    Contact,
    Conversation,
    Inbox,
    Message,
    parse_assignee,
    parse_contact,
    parse_conversation,
    parse_inbox,
    parse_message,
)
from chatwoot.transport import Retry, Transport

log = logging.getLogger(__name__)

# One catch-up read takes at most this many pages; the next read goes on from there.
_MAX_CATCHUP_PAGES = 50
# Chatwoot's message finder answers up to 100 messages after an id.
_AFTER_PAGE = 100
# The most a catch-up read returns.
CATCHUP_LIMIT = _MAX_CATCHUP_PAGES * _AFTER_PAGE


# Files take longer than a JSON call to send and for Chatwoot to store.
_UPLOAD_TIMEOUT = httpx.Timeout(120.0, connect=10.0)


@dataclass(frozen=True)
class OutgoingFile:
    """A file to attach to a contact message: its name, type and an open, rewindable file."""

    name: str
    content_type: str
    file: BinaryIO


class ChatwootClient(Transport):
    """Talk to one Chatwoot API-channel inbox through the public Client API."""

    def __init__(
        self,
        base_url: str,
        inbox_identifier: str,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        api_access_token: str | None = None,
        account_id: int | None = None,
    ) -> None:
        super().__init__(http=http, timeout=timeout)
        self.base_url = base_url.rstrip("/")
        self.inbox_identifier = inbox_identifier
        self._api_access_token = api_access_token
        self._account_id = account_id

    # ---- plumbing -----------------------------------------------------------------------

    def _inbox_url(self, *parts: str | int) -> str:
        tail = "".join("/" + quote(str(part), safe="") for part in parts)
        return (
            f"{self.base_url}/public/api/v1/inboxes/{quote(self.inbox_identifier, safe='')}{tail}"
        )

    def _contact_url(self, source_id: str, *parts: str | int) -> str:
        return self._inbox_url("contacts", source_id, *parts)

    def _conversation_url(self, source_id: str, conversation_id: int, *parts: str | int) -> str:
        return self._contact_url(source_id, "conversations", conversation_id, *parts)

    # ---- inbox --------------------------------------------------------------------------

    async def get_inbox(self) -> Inbox:
        """Read the inbox (also proves the inbox identifier is right)."""
        return parse_inbox(await self._object("GET", self._inbox_url(), retry=Retry.SAFE))

    async def ping(self) -> bool:
        """Tell whether Chatwoot answers for this inbox (readiness)."""
        try:
            response = await self._http.get(self._inbox_url(), timeout=min(self._timeout, 3.0))
        except httpx.HTTPError as exc:
            log.warning("chatwoot ping failed: %r", exc)
            return False
        if response.status_code != 200:
            log.warning("chatwoot ping answered %s", response.status_code)
            return False
        return True

    # ---- contacts -----------------------------------------------------------------------

    async def create_contact(
        self,
        *,
        source_id: str,
        name: str,
        email: str | None = None,
        custom_attributes: Mapping[str, Any] | None = None,
    ) -> Contact:
        """Create the contact session, or return the existing one for this ``source_id``."""
        body: dict[str, Any] = {"source_id": source_id, "name": name}
        if email:
            body["email"] = email
        if custom_attributes:
            body["custom_attributes"] = dict(custom_attributes)
        # Chatwoot returns the existing ContactInbox for a known source_id: safe to resend.
        data = await self._object("POST", self._inbox_url("contacts"), retry=Retry.SAFE, json=body)
        return parse_contact(data, source_id)

    async def get_contact(self, source_id: str) -> Contact:
        """Read a contact session by ``source_id``."""
        data = await self._object("GET", self._contact_url(source_id), retry=Retry.SAFE)
        return parse_contact(data, source_id)

    async def update_contact(self, source_id: str, **fields: Any) -> Contact:
        """Update name/email/phone_number/avatar_url/custom_attributes (blank values ignored)."""
        data = await self._object(
            "PATCH", self._contact_url(source_id), retry=Retry.SAFE, json=fields
        )
        # PATCH renders the bare Contact record: no source_id, no pubsub_token.
        return parse_contact(data, source_id)

    # ---- conversations ------------------------------------------------------------------

    async def create_conversation(
        self, source_id: str, *, custom_attributes: Mapping[str, Any] | None = None
    ) -> Conversation:
        """Open a conversation for the contact with the ticket's custom attributes."""
        body = {"custom_attributes": dict(custom_attributes or {})}
        url = self._contact_url(source_id, "conversations")
        data = await self._object("POST", url, retry=Retry.BEFORE_SEND, json=body)
        return parse_conversation(data)

    async def list_conversations(self, source_id: str) -> list[Conversation]:
        """List every conversation of the contact session (with all its messages)."""
        items = await self._list(self._contact_url(source_id, "conversations"))
        return [parse_conversation(item) for item in items]

    async def get_conversation(self, source_id: str, conversation_id: int) -> Conversation:
        """Read one conversation by display id."""
        url = self._conversation_url(source_id, conversation_id)
        return parse_conversation(await self._object("GET", url, retry=Retry.SAFE))

    async def resolve_conversation(self, source_id: str, conversation_id: int) -> Conversation:
        """Resolve the conversation (``toggle_status`` only ever resolves; repeats are no-ops)."""
        url = self._conversation_url(source_id, conversation_id, "toggle_status")
        return parse_conversation(await self._object("POST", url, retry=Retry.SAFE))

    async def toggle_typing(self, source_id: str, conversation_id: int, on: bool) -> None:
        """Show or hide the contact's typing indicator to agents."""
        url = self._conversation_url(source_id, conversation_id, "toggle_typing")
        body = {"typing_status": "on" if on else "off"}
        await self._request("POST", url, retry=Retry.SAFE, json=body)

    async def update_last_seen(self, source_id: str, conversation_id: int) -> None:
        """Mark the conversation as seen by the contact (agents' replies become read)."""
        url = self._conversation_url(source_id, conversation_id, "update_last_seen")
        await self._request("POST", url, retry=Retry.SAFE)

    # ---- messages -----------------------------------------------------------------------

    async def list_messages(
        self, source_id: str, conversation_id: int, *, before: int | None = None
    ) -> list[Message]:
        """List up to 20 messages, oldest first; with ``before`` the 20 older than that id."""
        url = self._conversation_url(source_id, conversation_id, "messages")
        params = {"before": before} if before is not None else None
        items = await self._list(url, params=params)
        return [parse_message(item, conversation_id) for item in items]

    async def list_messages_since(
        self, source_id: str, conversation_id: int, after_message_id: int
    ) -> list[Message]:
        """List every message newer than ``after_message_id``, oldest first (catch-up).

        Reads forward with ``after=`` (up to 100 a page, ascending), so no page is read twice
        and nothing depends on comparing Chatwoot's clock with ours.
        """
        found: dict[int, Message] = {}
        cursor = after_message_id
        url = self._conversation_url(source_id, conversation_id, "messages")
        for _ in range(_MAX_CATCHUP_PAGES):
            items = await self._list(url, params={"after": cursor})
            page = [parse_message(item, conversation_id) for item in items]
            newer = [message for message in page if message.id > cursor]
            found.update((message.id, message) for message in newer)
            if len(page) < _AFTER_PAGE or not newer:
                break  # the last page, or a server that ignored ``after``
            cursor = max(message.id for message in newer)
        else:
            log.warning(
                "catch-up of conversation %s stopped after %d pages",
                conversation_id,
                _MAX_CATCHUP_PAGES,
            )
        return [found[key] for key in sorted(found)]

    async def create_message(
        self,
        source_id: str,
        conversation_id: int,
        *,
        content: str,
        echo_id: str | None = None,
        files: Sequence[OutgoingFile] = (),
    ) -> Message:
        """Post the contact's message; never resent once it may have reached Chatwoot.

        With files the body is multipart `attachments[]`, read from each file in chunks as it
        is sent (httpx rewinds them if the connection failed before anything left).
        """
        body: dict[str, Any] = {"content": content}
        if echo_id is not None:
            body["echo_id"] = echo_id
        url = self._conversation_url(source_id, conversation_id, "messages")
        if not files:
            data = await self._object("POST", url, retry=Retry.BEFORE_SEND, json=body)
            return parse_message(data, conversation_id)
        if not content:
            del body["content"]
        parts = [("attachments[]", (f.name, f.file, f.content_type)) for f in files]
        data = await self._object(
            "POST",
            url,
            retry=Retry.BEFORE_SEND,
            data=body,
            files=parts,
            http_timeout=_UPLOAD_TIMEOUT,
        )
        return parse_message(data, conversation_id)

    async def submit_values(
        self,
        source_id: str,
        conversation_id: int,
        message_id: int,
        values: Sequence[Mapping[str, str]] | Mapping[str, Any],
    ) -> Message:
        """Answer a bot question or the survey (``submitted_values``); setting it twice is safe."""
        url = self._conversation_url(source_id, conversation_id, "messages", message_id)
        body = {"submitted_values": values}
        data = await self._object("PATCH", url, retry=Retry.SAFE, json=body)
        return parse_message(data, conversation_id)

    # ---- Application API (optional) -----------------------------------------------------

    @property
    def application_api_enabled(self) -> bool:
        """Tell whether an access token and account id were given for the Application API."""
        return bool(self._api_access_token) and self._account_id is not None

    def _app_url(self, conversation_id: int, *parts: str) -> str:
        tail = "".join("/" + part for part in parts)
        return (
            f"{self.base_url}/api/v1/accounts/{self._account_id}"
            f"/conversations/{conversation_id}{tail}"
        )

    def _app_headers(self) -> dict[str, str]:
        if not self.application_api_enabled:
            raise ChatwootUnavailable("the Application API is not configured")
        return {"api_access_token": self._api_access_token or ""}

    async def get_assignee(self, conversation_id: int) -> Assignee:
        """Read who the conversation is assigned to (the Client API never says)."""
        data = await self._object(
            "GET", self._app_url(conversation_id), retry=Retry.SAFE, headers=self._app_headers()
        )
        return parse_assignee(data)

    async def set_labels_and_priority(
        self, conversation_id: int, labels: Sequence[str], priority: str | None
    ) -> bool:
        """Set labels and priority through the Application API; False when not configured."""
        if not self.application_api_enabled:
            return False
        headers = self._app_headers()
        url = self._app_url(conversation_id, "labels")
        if labels:
            # POST replaces the whole list: read it first and keep what automations set.
            current = await self._json("GET", url, retry=Retry.SAFE, headers=headers)
            kept = current.get("payload") if isinstance(current, Mapping) else None
            merged = [str(x) for x in kept if isinstance(x, str)] if isinstance(kept, list) else []
            merged += [label for label in labels if label not in merged]
            await self._request(
                "POST", url, retry=Retry.SAFE, json={"labels": merged}, headers=headers
            )
        if priority:
            await self._request(
                "POST",
                self._app_url(conversation_id, "toggle_priority"),
                retry=Retry.SAFE,
                json={"priority": priority},
                headers=headers,
            )
        return True
