"""Sandbox agents: reply, add private notes, assign, resolve and reopen, at random."""

from __future__ import annotations

import time

from tests.soak import behaviours
from tests.soak.ledger import TOKEN, Context
from tests.soak.stack import Stack

AGENTS = ("Rita", "Bruno", "Carla", "Davi", "Elisa", "Fábio", "Gil", "Helena")


class Desk:
    """The agents' shared view of the inbox (a snapshot refreshed at most every second)."""

    def __init__(self, ctx: Context, stack: Stack) -> None:
        self.ctx = ctx
        self.stack = stack
        self._snapshot: list[tuple[int, str]] = []
        self._taken = 0.0
        self.behaviours = behaviours.from_env()
        self._inbox_switched = "templates" not in self.behaviours

    async def conversations(self) -> list[tuple[int, str]]:
        """Return (conversation id, status) of the soak's conversations in our inbox."""
        if time.monotonic() - self._taken > 1.0:
            inbox = self.stack.sandbox.server.config.inbox_id
            rows = await self.stack.sandbox.conversations()
            self._snapshot = [
                (cid, status)
                for cid, inbox_id, title, status in rows
                if inbox_id == inbox and TOKEN.search(title)
            ]
            self._taken = time.monotonic()
        return self._snapshot

    async def agent(self, name: str) -> None:
        """Work conversations until the load phase ends."""
        ctx, ledger = self.ctx, self.ctx.ledger
        if not self._inbox_switched:
            self._inbox_switched = True
            assert await behaviours.switch_inbox_templates(self.stack.sandbox_send) == 200
        while ctx.loading():
            await ctx.pause(ctx.plan.agent_pause)
            known = await self.conversations()
            if not known:
                continue
            cid, status = ctx.rng.choice(known)
            roll = ctx.rng.random()
            path = f"/conversations/{cid}"
            if roll < 0.5:
                token = ctx.token("A")
                ledger.agent_tokens[token] = cid
                answer = await behaviours.reply(
                    ctx, self.stack.sandbox_send, self.behaviours, cid, token, name
                )
                ledger.counts["agent_replies" if answer == 200 else "agent_failures"] += 1
            elif roll < 0.7:
                token = ctx.token("P")
                ledger.agent_tokens[token] = cid
                body = {"content": f"Nota interna {token}: só a equipe vê.", "private": True}
                answer = await self.stack.sandbox_post(f"{path}/messages", {**body, "agent": name})
                ledger.counts["private_notes" if answer == 200 else "agent_failures"] += 1
            elif roll < 0.8:
                who = ctx.rng.choice([*AGENTS, None])
                answer = await self.stack.sandbox_post(f"{path}/assign", {"agent": who})
                ledger.counts["assignments" if answer == 200 else "agent_failures"] += 1
            else:
                new = "open" if status == "resolved" else "resolved"
                answer = await self.stack.sandbox_post(
                    f"{path}/status", {"status": new, "agent": name}
                )
                ledger.counts[f"agent_{new}" if answer == 200 else "agent_failures"] += 1
