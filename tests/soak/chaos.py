"""Faults on a schedule, and hostile input along the way (each must be refused, change nothing)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from chatwoot.webhooks import sign_webhook
from tests.bot.harness import APP_ID, TENANT
from tests.fakes.connector import throttled, unavailable
from tests.soak.employees import Ambiguous, Refused, TeamsEmployee, WebEmployee, request
from tests.soak.ledger import BadInput, Context, tokens_in
from tests.soak.stack import WEBHOOK_SECRET, WEBHOOK_TOKEN, Stack

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures/chatwoot/payloads/webhooks"
BASE_FAULTS: dict[str, Any] = {"webhook_duplicate": 2, "webhook_reorder": True}


class Chaos:
    """Run the fault schedule and the bad-input prober against one stack."""

    def __init__(
        self, ctx: Context, stack: Stack, web: list[WebEmployee], teams: list[TeamsEmployee]
    ) -> None:
        self.ctx = ctx
        self.stack = stack
        self.web = web
        self.teams = teams
        self.faults: dict[str, Any] = dict(BASE_FAULTS)
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self.outage_seconds = 0.0

    async def close(self) -> None:
        """Close the prober's HTTP session."""
        await self.http.close()

    # ---- faults -------------------------------------------------------------------------------

    async def set_faults(self, faults: dict[str, Any], *, cut: bool = False) -> None:
        """Replace the sandbox's fault switches (the body replaces the whole set)."""
        self.faults = faults
        body = {**faults, "cable_cut": True} if cut else (faults or {"reset": True})
        status = await self.stack.sandbox_post("/faults", body)
        if status != 200:
            self.ctx.ledger.error(f"sandbox faults answered {status}")

    async def kill(self) -> None:
        """SIGKILL the service and start it again."""
        killed = time.monotonic()
        self.ctx.ledger.fault_log.append((killed, "SIGKILL"))
        down = await self.stack.service.kill_and_restart(self._note_leased)
        restarted = time.monotonic()
        self.ctx.ledger.fault_log.append((restarted, "restart"))
        self.ctx.ledger.crash_spans.append((killed, restarted))
        self.ctx.ledger.faults["service SIGKILLs"] += 1
        self.ctx.ledger.counts["downtime_ms"] += int(down * 1000)

    async def _note_leased(self) -> None:
        """Remember which replies and files the killed workers held (sent, maybe not stored)."""
        try:
            text = await self.stack.leased_outbox_text()
        except (OSError, asyncpg.PostgresError) as exc:
            self.ctx.ledger.error(f"reading the leased outbox rows failed: {exc}")
            return
        found = tokens_in(text)
        self.ctx.ledger.leased_at_kills.update(found)
        self.ctx.ledger.counts["tokens held by killed workers"] += len(set(found))

    async def outage(self) -> None:
        """The sandbox answers 503 to every Client API call for a while."""
        began = time.monotonic()
        await self.set_faults({**self.faults, "http_status": 503})
        self.ctx.ledger.faults["sandbox 5xx windows"] += 1
        await asyncio.sleep(self.ctx.plan.outage_seconds)
        await self.set_faults({k: v for k, v in self.faults.items() if k != "http_status"})
        self.outage_seconds += time.monotonic() - began

    async def drop_connections(self) -> None:
        """Terminate every PostgreSQL backend of the service's database."""
        dropped = time.monotonic()
        self.ctx.ledger.crash_spans.append((dropped, dropped))
        self.ctx.ledger.fault_log.append((dropped, "pg drop"))
        killed = await self.stack.terminate_backends()
        self.ctx.ledger.faults["pg_terminate_backend rounds"] += 1
        self.ctx.ledger.faults["pg backends terminated"] += killed

    async def teams_burst(self) -> None:
        """Teams answers the next calls of the tenant with 429s, then 503s."""
        size = self.ctx.plan.burst_size
        self.stack.connector.script_tenant(
            TENANT, [throttled(1)] * size + [unavailable(503)] * size
        )
        self.ctx.ledger.faults["Teams 429/503 bursts"] += 1
        self.ctx.ledger.faults["Teams 429+503 answers scripted"] += 2 * size

    async def run(self) -> None:
        """Run the schedule, cable cuts and bad input until the load ends; then clear faults."""
        plan = self.ctx.plan
        await self.set_faults(self.faults)
        events: list[tuple[float, Callable[[], Awaitable[None]]]] = []
        events += [(at, self.kill) for at in plan.kills]
        events += [(at, self.outage) for at in plan.outages]
        events += [(at, self.drop_connections) for at in plan.pg_drops]
        events += [(at, self.teams_burst) for at in plan.teams_bursts]
        tasks = [asyncio.create_task(self._at(at * plan.load_seconds, act)) for at, act in events]
        tasks.append(asyncio.create_task(self._every(plan.cable_cut_every, self.cut_cable)))
        tasks.append(asyncio.create_task(self._every(plan.bad_input_every, self.bad_input)))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.set_faults({})

    async def _at(self, when: float, act: Callable[[], Awaitable[None]]) -> None:
        await asyncio.sleep(max(0.0, when - self.ctx.elapsed))
        if self.ctx.loading():
            await act()

    async def _every(self, period: float, act: Callable[[], Awaitable[None]]) -> None:
        while self.ctx.loading():
            await self.ctx.pause((period * 0.8, period * 1.2))
            if self.ctx.loading():
                await act()

    async def cut_cable(self) -> None:
        """Close every cable socket the sandbox has (the service must reconnect, catch up)."""
        await self.set_faults(self.faults, cut=True)
        self.ctx.ledger.faults["cable cuts"] += 1

    # ---- bad input ----------------------------------------------------------------------------

    async def bad_input(self) -> None:
        """Send the next kind of hostile request; record how it was answered."""
        probes = [
            self.webhook_bad_token,
            self.forged_bot_token,
            self.csrf_missing,
            self.webhook_bad_signature,
            self.huge_card_submit,
            self.csrf_wrong,
            self.webhook_malformed,
            self.expired_bot_token,
            self.foreign_ticket_web,
            self.webhook_oversized,
            self.unsigned_bot_token,
            self.csrf_missing_form,
            self.webhook_stale,
            self.long_card_reply,
            self.foreign_ticket_ws,
            self.anonymous_post,
            self.foreign_ticket_teams,
            self.wrong_audience_bot_token,
        ]
        probe = probes[self.ctx.ledger.counts["bad_input_rounds"] % len(probes)]
        self.ctx.ledger.counts["bad_input_rounds"] += 1
        try:
            result = await probe()
        except (Refused, Ambiguous):
            self.ctx.ledger.counts["bad_input_skipped (service down)"] += 1
            return
        if result is not None:
            self.ctx.ledger.bad.append(result)

    def _web(self) -> WebEmployee | None:
        ready = [e for e in self.web if e.csrf and e.ticket_ids]
        return self.ctx.rng.choice(ready) if ready else None

    def _teams(self) -> TeamsEmployee | None:
        ready = [e for e in self.teams if e.ticket_ids]
        return self.ctx.rng.choice(ready) if ready else None

    def _conversation(self) -> int | None:
        known = [t.conversation_id for t in self.ctx.ledger.tickets.values() if t.conversation_id]
        return self.ctx.rng.choice(known) if known else None

    def _foreign(self, owner: str) -> int | None:
        others = [
            t.ticket_id
            for t in self.ctx.ledger.tickets.values()
            if t.owner != owner and t.ticket_id is not None
        ]
        return self.ctx.rng.choice(others) if others else None

    # -- webhooks

    def _webhook_body(self) -> tuple[bytes, str] | None:
        conversation = self._conversation()
        if conversation is None:
            return None
        token = self.ctx.token("X")
        payload = json.loads((FIXTURE / "message_created.outgoing.json").read_text())
        payload["content"] = f"Resposta forjada {token}."
        payload["id"] = 900_000_000 + int(token[1:8])
        payload["conversation"]["id"] = conversation
        payload["conversation"]["inbox_id"] = self.stack.sandbox.server.config.inbox_id
        if isinstance(payload.get("inbox"), dict):
            payload["inbox"]["id"] = self.stack.sandbox.server.config.inbox_id
        return json.dumps(payload).encode(), token

    async def _webhook(
        self,
        name: str,
        expected: int,
        raw: bytes,
        *,
        token: str = WEBHOOK_TOKEN,
        secret: str = WEBHOOK_SECRET,
        stamp: int | None = None,
    ) -> BadInput:
        timestamp = str(int(time.time()) if stamp is None else stamp)
        headers = {
            "Content-Type": "application/json",
            "X-Chatwoot-Timestamp": timestamp,
            "X-Chatwoot-Signature": sign_webhook(raw, secret, timestamp),
        }
        url = f"{self.stack.base}/api/chatwoot/webhook?token={token}"
        # A stream, not bytes: aiohttp warns about big raw bodies blocking the loop.
        status, _ = await request(self.http, "POST", url, data=io.BytesIO(raw), headers=headers)
        return BadInput(name, expected, status)

    async def webhook_bad_token(self) -> BadInput | None:
        """A well-signed webhook with the wrong URL token."""
        made = self._webhook_body()
        if made is None:
            return None
        return await self._webhook("webhook: wrong token", 401, made[0], token="not-the-token")

    async def webhook_bad_signature(self) -> BadInput | None:
        """A webhook signed with someone else's secret."""
        made = self._webhook_body()
        if made is None:
            return None
        return await self._webhook("webhook: forged signature", 401, made[0], secret="guess")

    async def webhook_stale(self) -> BadInput | None:
        """A correctly signed webhook replayed ten minutes later."""
        made = self._webhook_body()
        if made is None:
            return None
        stale = int(time.time()) - 600
        return await self._webhook("webhook: stale timestamp", 401, made[0], stamp=stale)

    async def webhook_malformed(self) -> BadInput | None:
        """A correctly signed body that is not JSON (cut in the middle), then a JSON array."""
        made = self._webhook_body()
        if made is None:
            return None
        first = await self._webhook("webhook: malformed JSON", 400, made[0][: len(made[0]) // 2])
        if not first.rejected:
            return first
        return await self._webhook("webhook: malformed JSON", 400, b"[1, 2, 3]")

    async def webhook_oversized(self) -> BadInput | None:
        """A correctly signed 1.5 MB webhook."""
        made = self._webhook_body()
        if made is None:
            return None
        body = json.loads(made[0])
        body["content"] += " " + "x" * 1_500_000
        return await self._webhook("webhook: oversized", 413, json.dumps(body).encode())

    # -- the bot endpoint

    async def _bot(self, name: str, expected: int, header: Callable[[Any], str | None]) -> BadInput:
        employee = self._teams()
        user = employee.user if employee is not None else self.teams[0].user
        token = self.ctx.token("X")
        activity = user.message(f"Mensagem forjada {token}")
        auth = header(user)
        headers = {"Authorization": auth} if auth else {}
        status, _ = await request(self.http, "POST", user.endpoint, json=activity, headers=headers)
        return BadInput(name, expected, status)

    async def forged_bot_token(self) -> BadInput:
        """A bot token signed by a stranger's key under Teams' key id."""
        idp = self.stack.idp
        return await self._bot(
            "bot: forged token", 401, lambda u: "Bearer " + idp.forged(APP_ID, u.connector.url)
        )

    async def expired_bot_token(self) -> BadInput:
        """A bot token that expired an hour ago (or none at all, every other time)."""
        idp = self.stack.idp
        if self.ctx.ledger.counts["expired_probe"] % 2:
            self.ctx.ledger.counts["expired_probe"] += 1
            return await self._bot("bot: no token", 401, lambda _u: None)
        self.ctx.ledger.counts["expired_probe"] += 1
        return await self._bot(
            "bot: expired token", 401, lambda u: "Bearer " + idp.expired(APP_ID, u.connector.url)
        )

    async def unsigned_bot_token(self) -> BadInput:
        """An alg=none token (alternating with an HS256 one)."""
        idp = self.stack.idp
        if self.ctx.ledger.counts["unsigned_probe"] % 2:
            self.ctx.ledger.counts["unsigned_probe"] += 1
            return await self._bot(
                "bot: HS256 token", 401, lambda u: "Bearer " + idp.hs256(APP_ID, u.connector.url)
            )
        self.ctx.ledger.counts["unsigned_probe"] += 1
        return await self._bot(
            "bot: alg=none token", 401, lambda u: "Bearer " + idp.unsigned(APP_ID, u.connector.url)
        )

    async def wrong_audience_bot_token(self) -> BadInput:
        """A well-signed token issued for another bot."""
        idp = self.stack.idp
        other = "99999999-0000-4000-8000-000000000000"
        return await self._bot(
            "bot: other bot's token", 401, lambda u: "Bearer " + idp.token(other, u.connector.url)
        )

    async def huge_card_submit(self) -> BadInput | None:
        """A validly signed card submit of 3 MB."""
        employee = self._teams()
        if employee is None:
            return None
        ticket_id = min(employee.ticket_ids)
        token = self.ctx.token("X")
        data = {"ticketId": ticket_id, "reply": f"Envio enorme {token} " + "y" * 3_000_000}
        activity = employee.user.execute("ticket.reply", data, "card")
        header = employee.user.authorization(activity)
        assert header is not None
        status, _ = await request(
            self.http,
            "POST",
            employee.user.endpoint,
            data=io.BytesIO(json.dumps(activity).encode()),
            headers={"Authorization": header, "Content-Type": "application/json"},
        )
        return BadInput("bot: 3 MB card submit", 413, status)

    async def long_card_reply(self) -> BadInput | None:
        """A validly signed card reply of 20,000 characters: the card comes back, nothing sent."""
        employee = self._teams()
        if employee is None:
            return None
        ticket_id = min(employee.ticket_ids)
        token = self.ctx.token("X")
        data = {"ticketId": ticket_id, "reply": f"Texto longo {token} " + "z" * 20_000}
        status, body = await employee.post(employee.user.execute("ticket.reply", data, "card"))
        shown = token in json.dumps(body)
        return BadInput("bot: 20k-char card reply", 200, 500 if shown else status, "too long")

    async def foreign_ticket_teams(self) -> BadInput | None:
        """Open someone else's ticket from a card: the history comes back, not their ticket."""
        employee = self._teams()
        if employee is None:
            return None
        foreign = self._foreign(employee.key)
        if foreign is None:
            return None
        status, _ = await employee.post(
            employee.user.execute("ticket.open", {"ticketId": foreign}, "card")
        )
        # A leak would show in the invoke body as the other ticket's tokens (audited).
        return BadInput("bot: someone else's ticket", 200, status)

    # -- the web

    async def _web_post(
        self, employee: WebEmployee, name: str, expected: int, csrf: str | None
    ) -> BadInput:
        token = self.ctx.token("X")
        ticket_id = min(employee.ticket_ids)
        headers = {"X-CSRF-Token": csrf} if csrf is not None else {}
        status, _ = await request(
            employee.http,
            "POST",
            employee.url(f"/api/conversations/{ticket_id}/messages"),
            json={"content": f"Sem CSRF {token}"},
            headers=headers,
        )
        return BadInput(name, expected, status)

    async def csrf_missing(self) -> BadInput | None:
        """An API post with the session cookie but no CSRF header."""
        employee = self._web()
        if employee is None:
            return None
        return await self._web_post(employee, "web: API post without CSRF", 403, None)

    async def csrf_wrong(self) -> BadInput | None:
        """An API post with another value in the CSRF header."""
        employee = self._web()
        if employee is None:
            return None
        return await self._web_post(employee, "web: API post, wrong CSRF", 403, "x" * 43)

    async def csrf_missing_form(self) -> BadInput | None:
        """A chat form post without csrf_token."""
        employee = self._web()
        if employee is None:
            return None
        token = self.ctx.token("X")
        status, _ = await request(
            employee.http,
            "POST",
            employee.url(f"/tickets/{min(employee.ticket_ids)}"),
            data={"content": f"Formulário sem CSRF {token}"},
            allow_redirects=False,
        )
        return BadInput("web: form post without CSRF", 403, status)

    async def anonymous_post(self) -> BadInput:
        """An API post with no session at all."""
        token = self.ctx.token("X")
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            status, _ = await request(
                http,
                "POST",
                f"{self.stack.base}/api/conversations",
                json={"title": f"Anônimo {token}", "description": "x", "complexity": "baixa"},
            )
        return BadInput("web: API post, no session", 401, status)

    async def foreign_ticket_web(self) -> BadInput | None:
        """Read, then post to, someone else's ticket."""
        employee = self._web()
        if employee is None:
            return None
        foreign = self._foreign(employee.key)
        if foreign is None:
            return None
        status, _ = await request(
            employee.http, "GET", employee.url(f"/api/conversations/{foreign}/messages")
        )
        if status != 404:
            return BadInput("web: someone else's ticket", 404, status)
        token = self.ctx.token("X")
        status, _ = await request(
            employee.http,
            "POST",
            employee.url(f"/api/conversations/{foreign}/messages"),
            json={"content": f"Intrusa {token}"},
            headers={"X-CSRF-Token": employee.csrf},
        )
        return BadInput("web: someone else's ticket", 404, status)

    async def foreign_ticket_ws(self) -> BadInput | None:
        """Subscribe to someone else's ticket on /ws (and open /ws from a foreign Origin)."""
        employee = self._web()
        if employee is None:
            return None
        foreign = self._foreign(employee.key)
        if foreign is None:
            return None
        url = employee.url("/ws")
        try:
            async with employee.http.ws_connect(url, headers={"Origin": "http://evil.example"}):
                return BadInput("web: /ws from a foreign Origin", 403, 101)
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status != 403:
                return BadInput("web: /ws from a foreign Origin", 403, exc.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Ambiguous(str(exc)) from exc
        got = 0
        try:
            async with employee.http.ws_connect(url, headers={"Origin": self.stack.base}) as ws:
                await ws.send_json({"type": "subscribe", "ticketId": foreign, "after": 0})
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(10):
                        frame = await ws.receive_json()
                        employee.ctx.ledger.observe(employee.key, "ws", json.dumps(frame))
                        not_found = frame.get("error") == "not_found"
                        got = 404 if not_found else 200
        except (aiohttp.ClientError, TimeoutError, ValueError, TypeError) as exc:
            raise Ambiguous(str(exc)) from exc
        return BadInput("web: /ws someone else's ticket", 404, got)
