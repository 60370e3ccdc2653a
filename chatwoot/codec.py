"""Typed events to JSON and back, so an event can wait in the database (parked) unchanged."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from chatwoot.events import (
    AssigneeChanged,
    ChatwootEvent,
    ConversationCreated,
    ConversationUpdated,
    EventSource,
    MessageEvent,
    StatusChanged,
    TypingChanged,
)
from chatwoot.fields import Attachment, ConversationStatus, MessageType, SenderType

_KINDS: dict[str, type[ChatwootEvent]] = {
    cls.__name__: cls
    for cls in (
        MessageEvent,
        StatusChanged,
        AssigneeChanged,
        ConversationUpdated,
        ConversationCreated,
        TypingChanged,
    )
}


def _optional(read: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else read(value)


# How to read back each field that JSON cannot carry as it is.
_READERS: dict[str, Callable[[Any], Any]] = {
    "created_at": datetime.fromisoformat,
    "occurred_at": datetime.fromisoformat,
    "updated_at": _optional(datetime.fromisoformat),
    "source": EventSource,
    "message_type": MessageType,
    "sender_type": _optional(SenderType),
    "status": _optional(ConversationStatus),
    "previous_status": _optional(ConversationStatus),
    "attachments": lambda items: tuple(Attachment(**item) for item in items),
    "changed": tuple,
}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def event_to_json(event: ChatwootEvent) -> dict[str, Any]:
    """Return a JSON-ready dict of an event, naming its kind."""
    data = _plain(event)
    assert isinstance(data, dict)
    return {"kind": type(event).__name__, "fields": data}


def event_from_json(data: Mapping[str, Any]) -> ChatwootEvent:
    """Rebuild an event from `event_to_json`'s dict; raise ValueError if it is not one."""
    cls = _KINDS.get(str(data.get("kind")))
    fields = data.get("fields")
    if cls is None or not isinstance(fields, Mapping):
        raise ValueError(f"not a parked event: {data.get('kind')!r}")
    known = {f.name for f in dataclasses.fields(cls)}
    values = {
        name: _READERS.get(name, lambda value: value)(value)
        for name, value in fields.items()
        if name in known
    }
    return cls(**values)
