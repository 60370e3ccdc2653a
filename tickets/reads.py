"""Read a ticket's timeline as plain data: the one place messages and events are merged.

Every reader (the service for pages and the API, the /ws fan-out, the Teams card renderer)
goes through here, so the timeline reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from db import repo
from db.models import Message
from db.repo import AnchoredEvent
from tickets.views import TimelineItem


def merge(messages: Sequence[Message], events: Sequence[AnchoredEvent]) -> list[TimelineItem]:
    """Interleave messages and events by cursor (one sequence orders both): resume order."""
    items = [TimelineItem.of_message(m) for m in messages]
    items += [TimelineItem.of_event(event, anchor) for event, anchor in events]
    items.sort(key=lambda item: item.cursor)
    return items


def display_order(items: Sequence[TimelineItem]) -> list[TimelineItem]:
    """Return the items as Chatwoot posted them, whatever order they arrived in."""
    return sorted(items, key=lambda item: item.sort_key)


async def timeline_after(
    session: AsyncSession, ticket_id: int, *, after_id: int, limit: int
) -> list[TimelineItem]:
    """Return up to `limit` timeline items after `after_id`, oldest first."""
    messages, events = await repo.timeline(session, ticket_id, after_id=after_id, limit=limit)
    return merge(messages, events)[:limit]


async def timeline_tail(session: AsyncSession, ticket_id: int, *, limit: int) -> list[TimelineItem]:
    """Return the newest `limit` timeline items in display order (cards show the tail)."""
    messages, events = await repo.recent_timeline(session, ticket_id, limit=limit)
    return display_order(merge(messages, events)[-limit:])
