"""The record of truth and what employees see now: the sandbox, our database, the web views."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg

from tests.soak.employees import Employee, TeamsEmployee, WebEmployee
from tests.soak.ledger import Context, tokens_in
from tests.soak.stack import Stack


@dataclass
class Truth:
    """The sandbox's record and our database, indexed by token."""

    conversations: list[dict[str, Any]]
    db_tickets: list[asyncpg.Record]
    db_messages: list[asyncpg.Record]
    outbox: dict[str, int]
    owner_of_conversation: dict[int, str] = field(default_factory=dict)
    public: dict[str, int] = field(default_factory=dict)  # A token -> conversation
    private: dict[str, int] = field(default_factory=dict)  # P token -> conversation
    incoming: Counter[str] = field(default_factory=Counter)  # E/T token -> messages holding it
    titles: Counter[str] = field(default_factory=Counter)  # T token -> conversations
    everything: set[str] = field(default_factory=set)  # every token anywhere in the sandbox
    where: dict[str, tuple[int, int, Any]] = field(default_factory=dict)  # token -> cid, id, at
    file_public: dict[str, int] = field(default_factory=dict)  # agent's F token -> conversation
    file_incoming: Counter[str] = field(default_factory=Counter)  # F token -> messages holding it

    @classmethod
    def build(
        cls,
        ctx: Context,
        inbox_id: int,
        conversations: list[dict[str, Any]],
        db: tuple[list[asyncpg.Record], list[asyncpg.Record], dict[str, int]],
    ) -> Truth:
        """Index the sandbox's conversations of our inbox."""
        ours = [c for c in conversations if c["inbox_id"] == inbox_id]
        truth = cls(ours, *db)
        for conversation in ours:
            title = str(conversation["custom_attributes"].get("title", ""))
            found = [t for t in tokens_in(title) if t.startswith("T")]
            if found:
                truth.titles[found[0]] += 1
                record = ctx.ledger.tickets.get(found[0])
                if record is not None:
                    truth.owner_of_conversation[int(conversation["id"])] = record.owner
            for message in conversation["messages"]:
                content = str(message["content"] or "")
                here = set(tokens_in(content))
                truth.everything |= here
                for token in here:
                    truth.where.setdefault(
                        token, (int(conversation["id"]), int(message["id"]), message["created_at"])
                    )
                truth.index_files(conversation, message)
                for token in here:
                    if message["message_type"] == "incoming":
                        truth.incoming[token] += 1
                    elif token.startswith("A") and not message["private"]:
                        truth.public[token] = int(conversation["id"])
                    elif token.startswith("P") and message["private"]:
                        truth.private[token] = int(conversation["id"])
        return truth

    def index_files(self, conversation: dict[str, Any], message: dict[str, Any]) -> None:
        """Note the F tokens in the names of a message's attachments (public or incoming)."""
        names = json.dumps(message.get("attachments") or [])
        for token in {t for t in tokens_in(names) if t.startswith("F")}:
            if message["message_type"] == "incoming":
                self.file_incoming[token] += 1
            elif not message["private"]:
                self.file_public[token] = int(conversation["id"])


async def read_database(
    url: str,
) -> tuple[list[asyncpg.Record], list[asyncpg.Record], dict[str, int]]:
    """Read tickets, messages and the outbox's states straight from PostgreSQL."""
    connection = await asyncpg.connect(url)
    try:
        tickets = await connection.fetch(
            "SELECT id, title, status::text AS status, chatwoot_conversation_id, assignee_name"
            " FROM tickets"
        )
        messages = await connection.fetch(
            "SELECT m.ticket_id, t.chatwoot_conversation_id, m.direction::text AS direction,"
            " m.content, m.chatwoot_message_id FROM messages m JOIN tickets t ON t.id = m.ticket_id"
        )
        states = await connection.fetch(
            "SELECT state::text AS state, count(*) AS n FROM outbox GROUP BY state"
        )
    finally:
        await connection.close()
    return list(tickets), list(messages), {r["state"]: int(r["n"]) for r in states}


def teams_sends(employee: TeamsEmployee, kind: str = "A") -> dict[str, list[float]]:
    """Agent tokens (replies, or with kind F files) posted to a Teams chat -> arrival times."""
    sends: dict[str, list[float]] = defaultdict(list)
    for received in employee.user.inbox():
        for token in set(tokens_in(json.dumps(received.activity))):
            if token.startswith(kind):
                sends[token].append(received.at)
    return sends


@dataclass
class Scene:
    """Everything the checks compare, read once at the end of the run."""

    ctx: Context
    truth: Truth
    web: list[WebEmployee]
    teams: list[TeamsEmployee]
    by_key: dict[str, Employee]
    ticket_of_conversation: dict[int, int]
    db_counts: Counter[str]  # token -> stored messages holding it
    api_counts: dict[str, Counter[str]] = field(default_factory=dict)  # user -> token -> items
    # user -> F token -> timeline items whose `attachments` list names it
    api_files: dict[str, Counter[str]] = field(default_factory=dict)
    page_counts: dict[str, Counter[str]] = field(default_factory=dict)  # user -> token -> times
    api_status: dict[int, str] = field(default_factory=dict)  # ticket id -> status on the API


async def look(
    ctx: Context, stack: Stack, web: list[WebEmployee], teams: list[TeamsEmployee]
) -> Scene:
    """Read the sandbox's record, our database and every web employee's views."""
    inbox = stack.sandbox.server.config.inbox_id
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{stack.sandbox.url}/sandbox/api/conversations") as answer,
    ):
        record = await answer.json()
    truth = Truth.build(ctx, inbox, record, await read_database(stack.database_url))
    db_counts: Counter[str] = Counter()
    for message in truth.db_messages:
        db_counts.update(set(tokens_in(message["content"])))
    scene = Scene(
        ctx,
        truth,
        web,
        teams,
        by_key={e.key: e for e in [*web, *teams]},
        ticket_of_conversation={
            int(r["chatwoot_conversation_id"]): int(r["id"]) for r in truth.db_tickets
        },
        db_counts=db_counts,
    )
    for employee in web:
        await _look_at_web(scene, employee)
    return scene


async def _look_at_web(scene: Scene, employee: WebEmployee) -> None:
    """Every ticket's timeline and state through the API, and its page, as the user sees them."""
    counts: Counter[str] = Counter()
    files: Counter[str] = Counter()
    on_page: Counter[str] = Counter()
    for ticket in employee.tickets:
        if ticket.ticket_id is None:
            continue
        for item in await employee.timeline(ticket):
            counts.update(set(tokens_in(str(item.get("content")))))
            names = json.dumps(item.get("attachments") or [])
            files.update({t for t in tokens_in(names) if t.startswith("F")})
        scene.api_status[ticket.ticket_id] = str((await employee.ticket(ticket))["status"])
        html = await employee.page(ticket)
        # What the page shows, once per timeline item: scripts' data (the controls of a bot
        # question, for answers.js) is not shown text.
        shown = re.sub(r"<script\b.*?</script>", "", html, flags=re.S)
        for item in shown.split(' data-id="')[1:]:
            on_page.update(set(tokens_in(item)))
        scene.ctx.ledger.observe(employee.key, "page", html)
    scene.api_counts[employee.key] = counts
    scene.api_files[employee.key] = files
    scene.page_counts[employee.key] = on_page
