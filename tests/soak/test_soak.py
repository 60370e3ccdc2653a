"""Soak and chaos: employees on the web and in Teams, agents in Chatwoot, faults all along.

The short plan runs in `make test`; ``SOAK_SECONDS=600`` runs the 10-minute one (200
employees). The audit compares the sandbox's record of truth with what every employee was
shown and fails on any loss, leak or duplicate not explained by the send/commit crash window.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from db.embedded import EmbeddedPostgres
from tests.soak.audit import run_audit
from tests.soak.chaos import Chaos
from tests.soak.desk import AGENTS, Desk
from tests.soak.employees import TIMEOUT, Employee, TeamsEmployee, WebEmployee
from tests.soak.ledger import AUDIT_TABLE, Context, plan_from_env
from tests.soak.settle import settle, unsettled
from tests.soak.stack import Stack, running_stack
from tests.soak.table import Audit, render


async def _load(ctx: Context, stack: Stack, employees: list[Employee], chaos: Chaos) -> None:
    """Run employees, agents and chaos for the load phase; stragglers get a bounded grace."""
    desk = Desk(ctx, stack)

    async def employee(person: Employee) -> None:
        # Arrivals spread over the first seconds, as people come in to work.
        await ctx.pause((0.0, min(8.0, ctx.plan.load_seconds / 8)))
        await person.run()

    tasks = [asyncio.create_task(employee(person)) for person in employees]
    tasks += [asyncio.create_task(desk.agent(name)) for name in AGENTS[: ctx.plan.agents]]
    tasks.append(asyncio.create_task(chaos.run()))
    await asyncio.sleep(ctx.plan.load_seconds)
    ctx.load_over.set()
    done, late = await asyncio.wait(tasks, timeout=45)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    ctx.ledger.counts["tasks cancelled at the end of the load"] = len(late)
    for task in done:
        if task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


async def keep_evidence(stack: Stack, folder: Path) -> None:
    """Save the sandbox's webhook delivery log and our receipts next to the service log."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{stack.sandbox.url}/sandbox/api/webhook/deliveries") as answer,
    ):
        (folder / "deliveries.json").write_bytes(await answer.read())
    connection = await asyncpg.connect(stack.database_url)
    try:
        rows = await connection.fetch(
            "SELECT received_at, event, outcome, delivery_id FROM webhook_receipts ORDER BY id"
        )
    finally:
        await connection.close()
    lines = [
        f"{r['received_at'].isoformat()} {r['event']} {r['outcome']} {r['delivery_id']}"
        for r in rows
    ]
    (folder / "receipts.txt").write_text("\n".join(lines))


def teams_answers(teams: list[TeamsEmployee]) -> dict[int, int]:
    """How the fake connector answered the bot's calls to the employees' chats, by status."""
    answers: Counter[int] = Counter()
    for person in teams:
        answers.update(received.status for received in person.connector_activities())
    return dict(sorted(answers.items()))


# Until tickets/relay.py catches up gaps (not only what is newer than the newest stored
# Chatwoot message id, and not only on a cable reconnect), a message missed during a fault can
# be lost for good; the audit finds it in most short runs. Drop this marker with that fix.


@pytest.mark.soak
@pytest.mark.slow
async def test_soak(
    postgres: EmbeddedPostgres, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    plan = plan_from_env()
    ctx = Context(plan)
    async with (
        running_stack(postgres, tmp_path) as stack,
        aiohttp.ClientSession(
            timeout=TIMEOUT, connector=aiohttp.TCPConnector(limit=100)
        ) as teams_http,
    ):
        web = [WebEmployee(ctx, stack, f"w{n:03d}") for n in range(plan.web_users)]
        teams = [
            TeamsEmployee(ctx, stack, f"t{n:03d}", teams_http) for n in range(plan.teams_users)
        ]
        chaos = Chaos(ctx, stack, web, teams)
        try:
            ctx.started = time.monotonic()
            await _load(ctx, stack, [*web, *teams], chaos)
            waited, left = await settle(ctx, stack, web, teams)
            audit = await run_audit(ctx, stack, web, teams)
            _judge_the_run(audit, left)
            missing = await unsettled(ctx, stack) if left else []
            if audit.problems:
                await keep_evidence(stack, tmp_path)
        finally:
            ctx.closing.set()
            for person in web:
                with contextlib.suppress(Exception):
                    await person.close()
            await chaos.close()
        service = stack.service
        extra = {
            "settling": f"{waited:.1f} s (bound {plan.settle_seconds:.0f} s), left: {left or 0}",
            "service": f"{service.starts} starts, {service.downtime:.1f} s down in total",
            "sandbox 5xx": f"{chaos.outage_seconds:.1f} s in total",
            "Teams answered": teams_answers(teams),
        }
        if missing:
            extra["replies never stored"] = "; ".join(missing)
        table = render(ctx, audit, extra)
    request.config.stash[AUDIT_TABLE] = table
    print(table)
    if audit.problems:
        pytest.fail(table + "\n\nservice log tail:\n" + stack.service.tail(), pytrace=False)


# Rows that a run that really exercised both front doors cannot leave at zero.
EXERCISED = (
    "tickets opened (web)",
    "tickets opened (teams)",
    "employee messages (web)",
    "employee messages (teams)",
    "agent replies → web API",
    "agent replies → Teams",
)


def _judge_the_run(audit: Audit, left: dict[str, int]) -> None:
    """Fail a run that did not settle, or that proved nothing (a row every run must fill)."""
    if left:
        audit.fail(f"still in flight after settling: {left}")
    for name in EXERCISED:
        if audit.rows[name].sent == 0:
            audit.fail(f"nothing was exercised on '{name}': the load never got through")
