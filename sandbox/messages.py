"""Agent-side message use cases: replies with files and bot inputs, edits, deletes, answers."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sandbox.attachments import MAX_ATTACHMENTS, Upload, file_type
from sandbox.errors import RecordInvalid
from sandbox.shapes import iso
from sandbox.state import OUTGOING, TEMPLATE, Agent, Conversation, Message, SandboxState


class Desk(Protocol):
    """What these use cases need of ``sandbox.desk.Desk`` (kept apart to avoid an import loop)."""

    state: SandboxState

    def message_event(
        self,
        msg: Message,
        webhook_event: str,
        cable_event: str,
        *,
        performer: Agent | None = None,
        previous: dict[str, Any] | None = None,
    ) -> None:
        """Send a message's webhook and cable frame."""


MAX_CONTENT = 150_000
DELETED_TEXT = "This message was deleted"
# Chatwoot's ``content_type`` enum, in order (``app/models/message.rb``).
CONTENT_TYPES = (
    "text",
    "input_text",
    "input_textarea",
    "input_email",
    "input_select",
    "cards",
    "form",
    "article",
    "incoming_email",
    "input_csat",
    "integrations",
    "sticker",
    "voice_call",
)
# ``ContentAttributeValidator``: the item keys each structured content type allows.
_ITEM_KEYS = {
    "input_select": {"title", "value"},
    "cards": {"title", "description", "media_url", "actions"},
    "form": {
        "type",
        "placeholder",
        "label",
        "name",
        "options",
        "default",
        "required",
        "pattern",
        "title",
        "pattern_error",
    },
    "article": {"title", "description", "link"},
}
# Content types whose message may carry no text (a question, cards, a form, a survey).
STRUCTURED = frozenset(CONTENT_TYPES) - {"text"}
_ACTION_KEYS = {"text", "type", "payload", "uri"}
_ATTRS = ["content_attributes"]


@dataclass
class AgentPost:
    """Describe one message an agent (or a bot, for templates) posts."""

    content: str | None
    agent: str = "Sandbox Agent"
    private: bool = False
    template: bool = False
    content_type: str = "text"
    content_attributes: dict[str, Any] = field(default_factory=dict)
    uploads: Sequence[Upload] = ()


def check_content(content: str | None, uploads: Sequence[Upload]) -> None:
    """Refuse over-long content and more files than Chatwoot allows on one message."""
    if content is not None and len(content) > MAX_CONTENT:
        raise RecordInvalid(
            f"Content is too long (maximum is {MAX_CONTENT} characters)", ["content"]
        )
    if len(uploads) > MAX_ATTACHMENTS:
        raise RecordInvalid(
            f"Attachments exceeded maximum allowed ({MAX_ATTACHMENTS})", ["attachments"]
        )


def check_structure(content_type: str, attributes: dict[str, Any]) -> None:
    """Validate ``content_attributes`` as Chatwoot's ``ContentAttributeValidator`` does."""
    allowed = _ITEM_KEYS.get(content_type)
    if allowed is None:
        return
    items = attributes.get("items")
    if not isinstance(items, list) or not items:
        raise RecordInvalid(
            "Content attributes At least one item is required.", ["content_attributes"]
        )
    if any(not isinstance(item, dict) for item in items):
        raise RecordInvalid("Content attributes Items should be a hash.", _ATTRS)
    invalid = sorted({key for item in items for key in item} - allowed)
    if invalid:
        raise RecordInvalid(
            f"Content attributes contains invalid keys for items : {invalid}",
            _ATTRS,
        )
    if content_type == "cards":
        if any(not isinstance(item.get("actions"), list) or not item["actions"] for item in items):
            raise RecordInvalid("Content attributes contains items missing actions", _ATTRS)
        actions = [a for item in items for a in item["actions"] if isinstance(a, dict)]
        bad = sorted({k for action in actions for k in action} - _ACTION_KEYS)
        if bad:
            raise RecordInvalid(
                f"Content attributes contains invalid keys for actions: {bad}", _ATTRS
            )


def attach(desk: Desk, msg: Message, uploads: Sequence[Upload]) -> None:
    """Store each upload as an attachment of ``msg`` (before any event is built)."""
    for up in uploads:
        desk.state.attach(msg, up.filename, up.content_type, up.data, file_type(up.content_type))


def post(desk: Desk, conv: Conversation, spec: AgentPost) -> Message:
    """Post an agent reply, private note or (with ``template``) a bot/template message."""
    if spec.content_type not in CONTENT_TYPES:
        raise RecordInvalid(
            f"Content type '{spec.content_type}' is not a valid content_type", ["content_type"]
        )
    check_content(spec.content, spec.uploads)
    check_structure(spec.content_type, spec.content_attributes)
    # Template messages (greeting, CSAT, bot questions) have no sender in Chatwoot.
    agent = None if spec.template else desk.state.agent(spec.agent)
    msg = desk.state.new_message(
        conv,
        spec.content,
        TEMPLATE if spec.template else OUTGOING,
        agent,
        private=spec.private,
        content_type=spec.content_type,
        content_attributes=spec.content_attributes,
    )
    attach(desk, msg, spec.uploads)
    conv.last_activity_at = msg.created_at
    if agent is not None and not spec.private:
        if conv.first_reply_created_at is None:
            conv.first_reply_created_at = msg.created_at
        conv.waiting_since = None
    desk.message_event(msg, "message_created", "message.created", performer=agent)
    return msg


def _update(desk: Desk, msg: Message, changes: dict[str, Any]) -> None:
    """Apply column changes and emit ``message_updated`` with Rails' ``previous_changes``."""
    previous: dict[str, Any] = {}
    for name, value in changes.items():
        old = getattr(msg, name)
        if old != value:
            previous[name] = [old, value]
            setattr(msg, name, value)
    if not previous:
        return
    before = msg.updated_at
    msg.updated_at = max(time.time(), before + 0.001)
    previous["updated_at"] = [iso(before), iso(msg.updated_at)]
    desk.message_event(msg, "message_updated", "message.updated", previous=previous)


def edit(desk: Desk, msg: Message, content: str) -> None:
    """Change a message's text (an integration or console edit): one ``message_updated``."""
    if msg.content_attributes.get("deleted"):
        raise RecordInvalid("A deleted message cannot be edited", ["content"])
    check_content(content, ())
    _update(desk, msg, {"content": content})


def delete(desk: Desk, msg: Message) -> None:
    """Delete as the dashboard does: fixed text, ``deleted: true``, attachments destroyed."""
    # Chatwoot destroys the files in the same transaction; the update event, built after the
    # commit, therefore never lists them.
    desk.state.detach_all(msg)
    _update(
        desk,
        msg,
        {
            "content": DELETED_TEXT,
            "content_type": "text",
            "content_attributes": {"deleted": True},
        },
    )


def submitted_values(raw: Any) -> list[dict[str, Any]] | dict[str, Any]:
    """Permit ``submitted_values`` as Chatwoot's strong parameters do (or refuse it)."""
    if isinstance(raw, dict) and isinstance(raw.get("csat_survey_response"), dict):
        answer = raw["csat_survey_response"]
        return {
            "csat_survey_response": {
                k: answer[k] for k in ("feedback_message", "rating") if k in answer
            }
        }
    if isinstance(raw, list) and all(isinstance(v, dict) for v in raw):
        return [{k: v[k] for k in ("name", "title", "value") if k in v} for v in raw]
    raise RecordInvalid(
        "Submitted values must be a list of {name, title, value}", ["submitted_values"]
    )


def submit(desk: Desk, msg: Message, values: list[dict[str, Any]] | dict[str, Any]) -> None:
    """Store a contact's answer in ``content_attributes.submitted_values``."""
    attributes = {**msg.content_attributes, "submitted_values": values}
    _update(desk, msg, {"content_attributes": attributes})
