"""What agents (and Chatwoot itself) change on a conversation besides status and messages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox import shapes
from sandbox.rules import check_attributes
from sandbox.state import PRIORITIES, Conversation

if TYPE_CHECKING:
    from sandbox.desk import Desk


class ChangeInvalid(ValueError):
    """Raise for a change Chatwoot would refuse (unknown priority, labels not strings)."""


def set_labels(desk: Desk, conv: Conversation, labels: Any, actor: str) -> None:
    """Replace the label list (Chatwoot's ``POST …/labels``); no event when nothing changes."""
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise ChangeInvalid("labels must be a list of strings")
    wanted = list(dict.fromkeys(x.strip() for x in labels if x.strip()))
    previous = list(conv.labels)
    if wanted == previous:
        return
    conv.labels = wanted
    desk.conversation_changed(conv, [shapes.changed("label_list", previous, wanted)])
    added = [x for x in wanted if x not in previous]
    removed = [x for x in previous if x not in wanted]
    if added:
        desk.activity(conv, f"{actor} added {', '.join(added)}")
    if removed:
        desk.activity(conv, f"{actor} removed {', '.join(removed)}")


def set_priority(desk: Desk, conv: Conversation, priority: Any, actor: str) -> None:
    """Set the priority (``low``, ``medium``, ``high``, ``urgent``) or clear it with null."""
    value = priority or None
    if value is not None and value not in PRIORITIES:
        raise ChangeInvalid(f"'{value}' is not a valid priority")
    if value == conv.priority:
        return
    previous, conv.priority = conv.priority, value
    desk.conversation_changed(conv, [shapes.changed("priority", previous, value)])
    if value is None:
        desk.activity(conv, f"{actor} removed priority")
    else:
        desk.activity(conv, f"{actor} set the priority to {value}")


def set_team(desk: Desk, conv: Conversation, team: Any, actor: str) -> None:
    """Assign a team by name (created on first use), or unassign it with null."""
    if team is not None and (not isinstance(team, str) or not team.strip()):
        raise ChangeInvalid("team must be a name or null")
    new = desk.state.team(team.strip()) if team else None
    old = conv.team
    if new is old:
        return
    conv.team = new
    desk.conversation_changed(
        conv, [shapes.changed("team_id", old.id if old else None, new.id if new else None)]
    )
    if new is None:
        desk.activity(conv, f"Unassigned from {old.name if old else ''} by {actor}")
    else:
        desk.activity(conv, f"Assigned to {new.name} by {actor}")


def set_custom_attributes(desk: Desk, conv: Conversation, attributes: Any) -> None:
    """Replace the conversation's custom attributes, as the dashboard's save does."""
    if not isinstance(attributes, dict):
        raise ChangeInvalid("custom_attributes must be an object")
    check_attributes(attributes)
    if attributes == conv.custom_attributes:
        return
    previous, conv.custom_attributes = conv.custom_attributes, dict(attributes)
    desk.conversation_changed(
        conv, [shapes.changed("custom_attributes", previous, conv.custom_attributes)]
    )


def snooze(desk: Desk, conv: Conversation, until: Any, actor: str) -> None:
    """Snooze until a unix time (or, with null, until the next reply) in one save."""
    if until is not None and (isinstance(until, bool) or not isinstance(until, int | float)):
        raise ChangeInvalid("snoozed_until must be a unix time or null")
    new = float(until) if until is not None else None
    if conv.status == "snoozed" and conv.snoozed_until == new:
        return
    previous_status, previous_until = conv.status, conv.snoozed_until
    before = shapes.iso(conv.updated_at)
    conv.status, conv.snoozed_until = "snoozed", new
    desk.status_saved(
        conv,
        [
            shapes.changed("status", previous_status, "snoozed"),
            shapes.changed("snoozed_until", shapes.iso(previous_until), shapes.iso(new)),
        ],
        before,
        status_changed=previous_status != "snoozed",
    )
    desk.activity(conv, f"Conversation was snoozed by {actor}")
