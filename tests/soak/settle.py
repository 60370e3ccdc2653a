"""Settling: wait (bounded) until what is in flight has landed before the audit looks."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from tests.soak.employees import Employee, TeamsEmployee, WebEmployee
from tests.soak.ledger import Context, tokens_in
from tests.soak.stack import Stack
from tests.soak.truth import Truth, read_database, teams_sends


async def pending(
    ctx: Context, stack: Stack, web: list[WebEmployee], teams: list[TeamsEmployee]
) -> dict[str, int]:
    """What is still on its way (outbox rows, replies not shown yet, statuses not caught up)."""
    inbox = stack.sandbox.server.config.inbox_id
    truth = Truth.build(
        ctx, inbox, await stack.sandbox.records(), await read_database(stack.database_url)
    )
    stored = {
        t for r in truth.db_messages if r["direction"] == "agent" for t in tokens_in(r["content"])
    }
    left: Counter[str] = Counter()
    left["outbox pending"] = truth.outbox.get("pending", 0)
    left["replies not stored"] = len(set(truth.public) - stored)
    statuses = {int(c["id"]): c["status"] for c in truth.conversations}
    left["statuses behind"] = sum(
        1
        for r in truth.db_tickets
        if statuses.get(int(r["chatwoot_conversation_id"]), r["status"]) != r["status"]
    )
    assignees = {int(c["id"]): (c.get("assignee") or {}).get("name") for c in truth.conversations}
    left["assignees behind"] = sum(
        1
        for r in truth.db_tickets
        if assignees.get(int(r["chatwoot_conversation_id"]), r["assignee_name"])
        != r["assignee_name"]
    )
    by_key: dict[str, Employee] = {e.key: e for e in [*web, *teams]}
    ticket_of_conversation = {
        int(r["chatwoot_conversation_id"]): int(r["id"]) for r in truth.db_tickets
    }
    sends = {e.key: teams_sends(e) for e in teams}
    for token, cid in truth.public.items():
        owner = by_key.get(truth.owner_of_conversation.get(cid, ""))
        if isinstance(owner, WebEmployee):
            ticket_id = ticket_of_conversation.get(cid)
            if (
                ticket_id in owner.ticket_ids
                and not ctx.ledger.ws_items(owner.key, ticket_id)[token]
            ):
                left["replies not on /ws"] += 1
        elif isinstance(owner, TeamsEmployee) and token not in sends[owner.key]:
            left["replies not in Teams"] += 1
    return {k: v for k, v in left.items() if v}


async def settle(
    ctx: Context, stack: Stack, web: list[WebEmployee], teams: list[TeamsEmployee]
) -> tuple[float, dict[str, int]]:
    """Wait (bounded) until everything in flight has landed; return the wait and what is left."""
    began = time.monotonic()
    left: dict[str, int] = {}
    while time.monotonic() - began < ctx.plan.settle_seconds:
        left = await pending(ctx, stack, web, teams)
        if not left:
            break
        await asyncio.sleep(2.0)
    return time.monotonic() - began, left


async def unsettled(ctx: Context, stack: Stack) -> list[str]:
    """Name the agent replies never stored (up to 10): their conversation and ticket, if any."""
    inbox = stack.sandbox.server.config.inbox_id
    truth = Truth.build(
        ctx, inbox, await stack.sandbox.records(), await read_database(stack.database_url)
    )
    stored = {
        t for r in truth.db_messages if r["direction"] == "agent" for t in tokens_in(r["content"])
    }
    ticket_of_conversation = {
        int(r["chatwoot_conversation_id"]): int(r["id"]) for r in truth.db_tickets
    }
    return [
        f"{token} in conversation {cid} (ticket {ticket_of_conversation.get(cid)})"
        for token, cid in sorted(truth.public.items())
        if token not in stored
    ][:10]
