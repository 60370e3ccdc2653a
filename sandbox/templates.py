"""Chatwoot's automatic template messages: out-of-office, greeting, and the CSAT survey."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from sandbox import messages
from sandbox.inbox import InboxSettings
from sandbox.messages import Desk
from sandbox.state import INCOMING, OUTGOING, TEMPLATE, Conversation, Message

CSAT_PROMPT = "Please rate the conversation"
# Chatwoot holds back the out-of-office reply while an agent is actively answering.
_AGENT_ACTIVE_SECONDS = 5 * 60


def settings_for(desk: Desk, conv: Conversation) -> InboxSettings | None:
    """Return the settings of the conversation's inbox (only the sandbox's own inbox has any)."""
    return desk.state.settings if conv.inbox is desk.state.inbox else None


def _day(ts: float) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


def _templates(conv: Conversation) -> list[Message]:
    return [m for m in conv.messages if m.message_type == TEMPLATE]


def _send_out_of_office(conv: Conversation, settings: InboxSettings, now: float) -> bool:
    if not settings.out_of_office_message.strip() or not settings.out_of_office(now):
        return False
    if any(_day(m.created_at) == _day(now) for m in _templates(conv)):
        return False
    return not any(
        m.message_type == OUTGOING and not m.private and now - m.created_at < _AGENT_ACTIVE_SECONDS
        for m in conv.messages
    )


def _send_greeting(conv: Conversation, settings: InboxSettings) -> bool:
    if not settings.greeting_enabled or not settings.greeting_message.strip():
        return False
    # "First message from the contact": no agent reply and no template yet (including an
    # out-of-office message created a moment ago, which therefore suppresses the greeting).
    return not any(m.message_type in (OUTGOING, TEMPLATE) for m in conv.messages)


def after_contact_message(desk: Desk, msg: Message) -> None:
    """Run Chatwoot's template hooks after a contact's message, in Chatwoot's order."""
    conv = msg.conversation
    settings = settings_for(desk, conv)
    if settings is None or msg.message_type != INCOMING:
        return
    if _send_out_of_office(conv, settings, time.time()):
        messages.post(desk, conv, messages.AgentPost(settings.out_of_office_message, template=True))
    if _send_greeting(conv, settings):
        messages.post(desk, conv, messages.AgentPost(settings.greeting_message, template=True))


def after_resolve(desk: Desk, conv: Conversation) -> Message | None:
    """Send the CSAT survey on a resolve when the inbox asks for it (once per conversation)."""
    settings = settings_for(desk, conv)
    if settings is None or not settings.csat_survey_enabled or conv.status != "resolved":
        return None
    if any(m.content_type == "input_csat" for m in conv.messages):
        return None
    survey = messages.AgentPost(
        CSAT_PROMPT,
        template=True,
        content_type="input_csat",
        content_attributes={"display_type": "emoji"},
    )
    return messages.post(desk, conv, survey)
