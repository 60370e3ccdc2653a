"""Employees: half on the web (JSON API + /ws), half in Teams (signed activities)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import aiohttp

from i18n import t
from tests.bot.harness import TeamsUser, find_action
from tests.fakes.connector import Received
from tests.soak.ledger import Context, SentMessage, TicketRecord
from tests.soak.stack import Stack

PASSWORD = "correct horse battery staple"
TIMEOUT = aiohttp.ClientTimeout(total=30)


class Refused(Exception):
    """The request never reached the service (nothing can have happened)."""


class Ambiguous(Exception):
    """The request may or may not have been processed (connection cut mid-way, timeout)."""


async def request(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, Any]:
    """Make one request; return (status, JSON or text), classifying transport failures."""
    try:
        async with http.request(method, url, **kwargs) as answer:
            raw = await answer.read()
            body: Any = raw.decode(errors="replace")
            if answer.content_type == "application/json" and raw:
                with contextlib.suppress(ValueError):
                    body = json.loads(raw)
            return answer.status, body
    except aiohttp.ClientConnectorError as exc:
        raise Refused(str(exc)) from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise Ambiguous(type(exc).__name__) from exc


def form_fields(ticket: TicketRecord) -> dict[str, str]:
    """The ticket form, with the title token in the title and the description."""
    return {
        "title": f"Impressora {ticket.token} parada",
        "description": f"Chamado {ticket.token} de {ticket.owner}: não imprime.",
        "complexity": "baixa",
        "sector": "TI",
    }


class Employee:
    """What both kinds of employee share: their tickets and the messages still to send."""

    kind = ""

    def __init__(self, ctx: Context, stack: Stack, key: str) -> None:
        self.ctx = ctx
        self.stack = stack
        self.key = key
        self.tickets: list[TicketRecord] = []
        self.pending_ticket: TicketRecord | None = None
        self.retry: list[SentMessage] = []

    @property
    def ticket_ids(self) -> set[int]:
        """Our ids of this employee's tickets."""
        return {t.ticket_id for t in self.tickets if t.ticket_id is not None}

    def new_ticket(self) -> TicketRecord:
        """Start a ticket (kept pending until the front door confirms it)."""
        if self.pending_ticket is None:
            ticket = TicketRecord(self.ctx.token("T"), self.key)
            self.ctx.ledger.tickets[ticket.token] = ticket
            self.pending_ticket = ticket
        return self.pending_ticket

    def next_message(self) -> tuple[TicketRecord, SentMessage]:
        """Return a refused message to try again, or a new one for a random own ticket."""
        if self.retry:
            message = self.retry.pop(0)
            ticket = self.ctx.ledger.tickets[message.ticket_token]
            return ticket, message
        ticket = self.ctx.rng.choice([t for t in self.tickets if t.ticket_id is not None])
        token = self.ctx.token("E")
        content = f"Mensagem {token} de {self.key} sobre o chamado."
        message = SentMessage(token, self.key, ticket.token, content)
        self.ctx.ledger.messages[token] = message
        return ticket, message

    async def step(self) -> None:
        """Do one thing an employee does."""
        roll = self.ctx.rng.random()
        plan = self.ctx.plan
        opened = [t for t in self.tickets if t.ticket_id is not None]
        wants_another = roll < 0.12 and len(self.tickets) < plan.max_tickets
        if self.pending_ticket is not None or not opened or wants_another:
            await self.open_ticket()
        elif roll < 0.85 or self.retry:
            await self.send_message()
        else:
            await self.look()

    async def run(self) -> None:
        """Act until the load phase ends."""
        await self.start()
        while self.ctx.loading():
            try:
                await self.step()
            except (Refused, Ambiguous):
                self.ctx.ledger.counts[f"{self.kind}_transport_errors"] += 1
            await self.ctx.pause(self.ctx.plan.think)

    async def start(self) -> None:
        """Sign up / install."""

    async def open_ticket(self) -> None:
        """Open (or retry opening) a ticket."""

    async def send_message(self) -> None:
        """Send (or retry) a message."""

    async def look(self) -> None:
        """Read what the employee can see."""


class WebEmployee(Employee):
    """A browser user: password account, JSON API with the CSRF header, one /ws."""

    kind = "web"

    def __init__(self, ctx: Context, stack: Stack, key: str) -> None:
        super().__init__(ctx, stack, key)
        # The address our proxy would record for this employee's machine.
        number = int(key[1:])
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=TIMEOUT,
            headers={"X-Forwarded-For": f"10.{number // 256 % 256}.{number % 256}.{len(key)}"},
        )
        self.csrf = ""
        self.email = f"{key}@soak.example"
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.ws_subscribed: set[int] = set()
        self.ws_last: dict[int, int] = {}
        self.ws_lock = asyncio.Lock()
        self.ws_task: asyncio.Task[None] | None = None
        self.statuses: dict[int, str] = {}

    def url(self, path: str) -> str:
        """Absolute URL of a path on the service."""
        return f"{self.stack.base}{path}"

    async def close(self) -> None:
        """Close the socket task and the HTTP session."""
        if self.ws_task is not None:
            self.ws_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.ws_task
        await self.http.close()

    # ---- account ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Create the account (or sign in when an earlier attempt did create it)."""
        while not self.ctx.closing.is_set():
            try:
                if await self._sign_up():
                    break
            except (Refused, Ambiguous):
                self.ctx.ledger.counts["web_signup_retries"] += 1
            await asyncio.sleep(0.5)
        self.ws_task = asyncio.create_task(self.follow(), name=f"ws-{self.key}")

    async def _sign_up(self) -> bool:
        status, session = await request(self.http, "GET", self.url("/api/session"))
        if status != 200:  # e.g. the database was cut mid-request: try again
            self.ctx.ledger.error(f"{self.key} session answered {status}: {str(session)[:80]}")
            return False
        form = {"csrf_token": session["csrf_token"], "email": self.email, "password": PASSWORD}
        status, _ = await request(
            self.http,
            "POST",
            self.url("/signup"),
            data={**form, "name": f"Soak {self.key}"},
            allow_redirects=False,
        )
        if status != 303:
            self.ctx.ledger.error(f"{self.key} sign-up answered {status}")
            return False
        # Sign-up never signs in (its answer must not reveal a known address): sign in now.
        status, session = await request(self.http, "GET", self.url("/api/session"))
        if status != 200 or not isinstance(session, dict) or "csrf_token" not in session:
            # A read that failed mid-fault: the next round signs in (the account exists).
            self.ctx.ledger.error(f"{self.key} session after sign-up answered {status}")
            return False
        form["csrf_token"] = session["csrf_token"]
        status, _ = await request(
            self.http, "POST", self.url("/login"), data=form, allow_redirects=False
        )
        if status != 303:
            return False
        _, session = await request(self.http, "GET", self.url("/api/session"))
        if not isinstance(session, dict) or not session.get("user"):
            return False
        self.csrf = session["csrf_token"]
        return True

    # ---- tickets and messages -------------------------------------------------------------------

    async def open_ticket(self) -> None:
        """POST /api/conversations with the title token as Idempotency-Key."""
        ticket = self.new_ticket()
        try:
            status, body = await request(
                self.http,
                "POST",
                self.url("/api/conversations"),
                json=form_fields(ticket),
                headers={"X-CSRF-Token": self.csrf, "Idempotency-Key": ticket.token},
            )
        except Refused:
            ticket.refused += 1
            return
        except Ambiguous:
            ticket.ambiguous += 1
            return
        if status == 201:
            ticket.ticket_id = int(body["id"])
            ticket.conversation_id = int(body["chatwootConversationId"])
            self.tickets.append(ticket)
            self.pending_ticket = None
            self.ctx.ledger.counts["web_tickets"] += 1
            self.ctx.ledger.observe(self.key, "api", json.dumps(body))
            await self.subscribe()
        elif status == 503:
            ticket.refused += 1
        elif status >= 500:
            ticket.ambiguous += 1
        else:
            self.ctx.ledger.error(f"{self.key} open answered {status}: {str(body)[:200]}")

    def _message_body(self, message: SentMessage) -> dict[str, Any]:
        """The request's body: JSON, or (for a message with a file) multipart."""
        if not message.file:
            return {"json": {"content": message.content}}
        form = aiohttp.FormData()
        form.add_field("content", message.content)
        form.add_field(
            "attachments",
            f"Anexo {message.file} de {self.key}.\n".encode(),
            filename=f"anexo-{message.file}.txt",
            content_type="text/plain",
        )
        return {"data": form}

    async def send_message(self) -> None:
        """POST the message under its token as Idempotency-Key, as the page's composer does.

        A 503, a refused connection or a lost answer (ambiguous) keeps it for a retry under
        the same key, which must not send it twice. Some messages carry a file.
        """
        ticket, message = self.next_message()
        first_try = not message.file and message.refused + message.ambiguous == 0
        if first_try and self.ctx.rng.random() < 0.3:
            message.file = self.ctx.token("F")
            self.ctx.ledger.files[message.file] = message.token
        headers = {"X-CSRF-Token": self.csrf, "Idempotency-Key": message.token}
        try:
            status, body = await request(
                self.http,
                "POST",
                self.url(f"/api/conversations/{ticket.ticket_id}/messages"),
                headers=headers,
                **self._message_body(message),
            )
        except Refused:
            message.refused += 1
            self.retry.append(message)
            return
        except Ambiguous:
            message.ambiguous += 1
            self.retry.append(message)
            return
        if status == 201:
            message.confirmed = True
            self.ctx.ledger.counts["web_files" if message.file else "web_messages"] += 1
        elif status == 503:
            message.refused += 1
            self.retry.append(message)
        elif status >= 500:
            message.ambiguous += 1
            self.retry.append(message)
        else:
            self.ctx.ledger.error(f"{self.key} message answered {status}: {str(body)[:200]}")

    async def look(self) -> None:
        """List the tickets and read one timeline (every id must be the employee's own)."""
        status, body = await request(self.http, "GET", self.url("/api/conversations?limit=50"))
        if status != 200:
            return
        self.ctx.ledger.observe(self.key, "api", json.dumps(body))
        for item in body["conversations"]:
            if item["id"] not in self.ticket_ids:
                self.ctx.ledger.foreign_ids.append((self.key, "api", int(item["id"])))
        ticket = self.ctx.rng.choice([t for t in self.tickets if t.ticket_id is not None])
        await self.timeline(ticket)

    async def timeline(self, ticket: TicketRecord) -> list[dict[str, Any]]:
        """Read a ticket's whole timeline through the API (observed for the audit)."""
        status, body = await request(
            self.http, "GET", self.url(f"/api/conversations/{ticket.ticket_id}/messages")
        )
        if status != 200:
            raise Ambiguous(f"timeline answered {status}")
        self.ctx.ledger.observe(self.key, "api", json.dumps(body))
        items: list[dict[str, Any]] = body["messages"]
        return items

    async def page(self, ticket: TicketRecord) -> str:
        """Read the ticket's HTML page as a browser would."""
        status, body = await request(self.http, "GET", self.url(f"/tickets/{ticket.ticket_id}"))
        if status != 200:
            raise Ambiguous(f"ticket page answered {status}")
        return str(body)

    async def ticket(self, ticket: TicketRecord) -> dict[str, Any]:
        """Read one ticket through the API."""
        status, body = await request(
            self.http, "GET", self.url(f"/api/conversations/{ticket.ticket_id}")
        )
        if status != 200:
            raise Ambiguous(f"ticket answered {status}")
        result: dict[str, Any] = body
        return result

    # ---- /ws ------------------------------------------------------------------------------------

    async def subscribe(self) -> None:
        """Subscribe the open socket to every ticket it does not follow yet."""
        async with self.ws_lock:
            socket = self.ws
            if socket is None or socket.closed:
                return
            for ticket_id in sorted(self.ticket_ids - self.ws_subscribed):
                frame = {"type": "subscribe", "ticketId": ticket_id}
                frame["after"] = self.ws_last.get(ticket_id, 0)
                try:
                    await socket.send_json(frame)
                except (aiohttp.ClientError, ConnectionError, RuntimeError):
                    return
                self.ws_subscribed.add(ticket_id)

    async def follow(self) -> None:
        """Keep one socket open, resuming after the last item id whenever it is cut."""
        while not self.ctx.closing.is_set():
            try:
                async with self.http.ws_connect(
                    self.url("/ws"), headers={"Origin": self.stack.base}, autoping=True
                ) as socket:
                    async with self.ws_lock:
                        self.ws, self.ws_subscribed = socket, set()
                    self.ctx.ledger.counts["ws_connects"] += 1
                    await self.subscribe()
                    async for message in socket:
                        if message.type is aiohttp.WSMsgType.TEXT:
                            self.on_frame(json.loads(message.data))
            except (aiohttp.ClientError, TimeoutError, ConnectionError, ValueError):
                pass
            async with self.ws_lock:
                self.ws = None
            await asyncio.sleep(0.3 + self.ctx.rng.random())

    def on_frame(self, frame: dict[str, Any]) -> None:
        """Check and record one server frame."""
        ledger = self.ctx.ledger
        ledger.observe(self.key, "ws", json.dumps(frame))
        kind = frame.get("type")
        if kind == "item":
            item = frame["item"]
            ticket_id = int(item["ticketId"])
            if ticket_id not in self.ticket_ids:
                ledger.foreign_ids.append((self.key, "ws", ticket_id))
                return
            # An edited or deleted item comes again with a newer cursor and replaces the old.
            cursor = int(item.get("cursor") or item["id"])
            if cursor <= self.ws_last.get(ticket_id, 0):
                ledger.ws_repeats[self.key] += 1
                return
            self.ws_last[ticket_id] = cursor
            ledger.ws_view[(self.key, ticket_id)][int(item["id"])] = str(item.get("content"))
            ledger.counts["ws_items"] += 1
        elif kind == "ticket":
            ticket_id = int(frame["ticket"]["id"])
            if ticket_id not in self.ticket_ids:
                ledger.foreign_ids.append((self.key, "ws", ticket_id))
                return
            self.statuses[ticket_id] = str(frame["ticket"]["status"])


class TeamsEmployee(Employee):
    """A Teams user in a 1:1 chat with the bot: every activity signed by the local issuer."""

    kind = "teams"

    def __init__(self, ctx: Context, stack: Stack, key: str, http: aiohttp.ClientSession):
        super().__init__(ctx, stack, key)
        self.http = http
        self.user = TeamsUser(
            f"{stack.base}/api/messages", stack.connector, stack.idp, name=f"Soak {key}"
        )
        # The bot's calls do not name the tenant; the fake needs it for tenant-wide faults.
        stack.connector.set_tenant(self.user.conversation_id, self.user.tenant)

    def connector_activities(self) -> list[Received]:
        """Every call the bot made to this employee's chat (failed ones included)."""
        return self.stack.connector.activities(self.user.conversation_id)

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        """POST one signed activity."""
        header = self.user.authorization(activity)
        assert header is not None
        status, body = await request(
            self.http,
            "POST",
            self.user.endpoint,
            json=activity,
            headers={"Authorization": header},
        )
        if body:
            self.ctx.ledger.observe(self.key, "invoke", json.dumps(body))
        return status, body

    async def start(self) -> None:
        """Install the app (the bot stores the conversation reference)."""
        while not self.ctx.closing.is_set():
            try:
                status, _ = await self.post(self.user.install())
                if status in (200, 201):
                    return
            except (Refused, Ambiguous):
                self.ctx.ledger.counts["teams_install_retries"] += 1
            await asyncio.sleep(0.5)

    async def open_ticket(self) -> None:
        """Submit the form card (Action.Execute ticket.create, the title token as formId)."""
        ticket = self.new_ticket()
        data = {"formId": ticket.token, **form_fields(ticket), "for_other": "false"}
        try:
            status, body = await self.post(
                self.user.execute("ticket.create", data, f"form-{ticket.token}")
            )
        except Refused:
            ticket.refused += 1
            return
        except Ambiguous:
            ticket.ambiguous += 1
            return
        card = body.get("value") if status == 200 and isinstance(body, dict) else None
        try:
            refresh = find_action(card or {}, "ticket.refresh")
        except AssertionError:
            # The form came back (helpdesk down: it keeps the input), or an error card.
            ticket.refused += 1
            return
        ticket.ticket_id = int(refresh["data"]["ticketId"])
        self.tickets.append(ticket)
        self.pending_ticket = None
        self.ctx.ledger.counts["teams_tickets"] += 1

    async def send_message(self) -> None:
        """Reply from the ticket card, or (sometimes) type the text in the chat."""
        ticket, message = self.next_message()
        if self.ctx.rng.random() < 0.25:
            await self._typed(ticket, message)
            return
        data = {"ticketId": ticket.ticket_id, "reply": message.content}
        try:
            status, body = await self.post(self.user.execute("ticket.reply", data, "card"))
        except Refused:
            message.refused += 1
            self.retry.append(message)
            return
        except Ambiguous:
            message.ambiguous += 1
            return
        dumped = json.dumps(body)
        if status == 200 and message.token in dumped:
            message.confirmed = True
            self.ctx.ledger.counts["teams_messages"] += 1
        elif status == 200 and f'"ticketId": {ticket.ticket_id}' in dumped:
            # The ticket card without the message: it was refused (helpdesk down).
            message.refused += 1
            self.retry.append(message)
        else:
            message.ambiguous += 1

    async def _typed(self, ticket: TicketRecord, message: SentMessage) -> None:
        """Open the ticket (it becomes the current one), then type the message."""
        try:
            status, _ = await self.post(
                self.user.execute("ticket.open", {"ticketId": ticket.ticket_id}, "card")
            )
            if status != 200:
                self.retry.append(message)
                return
        except (Refused, Ambiguous):
            self.retry.append(message)
            return
        sent_prefix = t("bot.sent", "pt-BR", id=ticket.ticket_id, title="").split("“")[0]
        unavailable = t("bot.unavailable", "pt-BR")

        def count(prefix: str) -> int:
            return sum(
                1 for r in self.user.inbox() if r.text is not None and r.text.startswith(prefix)
            )

        before_sent, before_unavailable = count(sent_prefix), count(unavailable)
        try:
            status, _ = await self.post(self.user.message(message.content))
        except Refused:
            message.refused += 1
            self.retry.append(message)
            return
        except Ambiguous:
            message.ambiguous += 1
            return
        if count(sent_prefix) > before_sent:
            message.confirmed = True
            self.ctx.ledger.counts["teams_typed"] += 1
        elif count(unavailable) > before_unavailable:
            message.refused += 1
            self.retry.append(message)
        else:
            message.ambiguous += 1

    async def look(self) -> None:
        """Ask for the history card, or refresh a ticket card, or reopen a ticket."""
        roll = self.ctx.rng.random()
        ticket = self.ctx.rng.choice([t for t in self.tickets if t.ticket_id is not None])
        if roll < 0.4:
            await self.post(self.user.message("meus chamados"))
        elif roll < 0.8:
            await self.post(
                self.user.execute("ticket.refresh", {"ticketId": ticket.ticket_id}, "card")
            )
        else:
            await self.post(
                self.user.execute("ticket.reopen", {"ticketId": ticket.ticket_id}, "card")
            )
            self.ctx.ledger.counts["teams_reopens"] += 1
