"""How the sandbox's desk fans one change out: the webhook and the cable frame Chatwoot sends."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from sandbox import shapes
from sandbox.cable import CableHub
from sandbox.state import ACTIVITY, Agent, Contact, Conversation, Message, SandboxState
from sandbox.webhooks import WebhookDispatcher

# A webhook has 5 s to answer; waiting longer for "before the answer" would hide a hang.
DELIVER_NOW_SECONDS = 6.0


def conversation_key(conv: Conversation) -> str:
    """Return the webhook ordering key of a conversation's events."""
    return f"conversation:{conv.display_id}"


def contact_key(contact: Contact) -> str:
    """Return the webhook ordering key of a contact's events."""
    return f"contact:{contact.id}"


class EventFanout:
    """Emit the events of the desk's changes to webhooks and to the contact's cable."""

    def __init__(self, state: SandboxState, webhooks: WebhookDispatcher, cable: CableHub) -> None:
        self.state = state
        self.webhooks = webhooks
        self.cable = cable

    # --- events -----------------------------------------------------------------------------

    def _activity(self, conv: Conversation, text: str) -> None:
        # Activity lines are agent-only: Chatwoot sends them to no webhook and no contact token.
        self.state.new_message(conv, text, ACTIVITY, None)

    def message_event(
        self,
        msg: Message,
        webhook_event: str,
        cable_event: str,
        *,
        performer: Agent | None = None,
        previous: dict[str, Any] | None = None,
    ) -> None:
        """Send a message's webhook and (unless private) its cable frame to the contact."""
        conv = msg.conversation
        self.state.touch("conversation", conv.display_id)
        self.state.touch("message", (conv.display_id, msg.id))
        if msg.message_type == ACTIVITY:
            return
        self.webhooks.enqueue(
            conversation_key(conv), shapes.message_webhook(self.state, msg, webhook_event)
        )
        if msg.private:
            return
        data = shapes.message_push(self.state, msg, with_echo=cable_event == "message.created")
        if previous is not None:
            data["previous_changes"] = previous
        data["account_id"] = self.state.config.account_id
        if performer is not None:
            data["performer"] = shapes.user_push(performer)
        # A message's push data is built now (Chatwoot's listener does); only its job is late.
        self.cable.broadcast_job(conv.contact_inbox.pubsub_token, cable_event, data, lambda: data)

    def _conversation_event(
        self,
        conv: Conversation,
        webhook_event: str,
        cable_event: str,
        **extra: Any,
    ) -> None:
        self.state.touch("conversation", conv.display_id)

        def webhook_body() -> shapes.Json:
            return {
                **shapes.conversation_webhook(self.state, conv),
                "event": webhook_event,
                **extra,
            }

        def push_data() -> shapes.Json:
            data = shapes.conversation_push(self.state, conv)
            data["account_id"] = self.state.config.account_id
            return data

        # The builders re-read the conversation when a late-snapshot job runs, as Chatwoot's do.
        self.webhooks.enqueue(conversation_key(conv), webhook_body(), webhook_body)
        token = conv.contact_inbox.pubsub_token
        self.cable.broadcast_job(token, cable_event, push_data(), push_data)

    async def deliver_now(self, conv: Conversation) -> None:
        """Wait until this conversation's webhooks and cable frames so far have gone out."""
        # Bounded: a receiver that hangs must not turn the create into an error.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DELIVER_NOW_SECONDS):
                await self.webhooks.flush(conversation_key(conv))
        await self.cable.flush()
