"""A fake Bot Connector service: records what the bot sends, answers scripted faults, counts limits.

Usable from tests and benches::

    connector = FakeConnector()
    await connector.start()
    connector.script("a:conv", [throttled(2), unavailable()])   # next two answers for that chat
    ... point activities' serviceUrl at connector.url ...
    connector.activities("a:conv"), connector.breaches
    await connector.stop()

It serves the Bot Connector v3 routes the SDK uses (send, reply, update, delete, create 1:1,
members) plus an Entra-like client-credentials token endpoint, from its own thread.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from aiohttp import web
from botframework.connector.auth import AppCredentials, ServiceClientCredentialsFactory

from tests.fakes import ThreadedServer

# Teams limits per bot: per conversation (send/create) and per tenant (every call).
CONVERSATION_LIMITS: tuple[tuple[float, int], ...] = ((1.0, 7), (30.0, 60), (3600.0, 1800))
TENANT_LIMITS: tuple[tuple[float, int], ...] = ((1.0, 50),)
CREATE_KEY = "*create*"


@dataclass(frozen=True)
class Reply:
    """One scripted answer; ``status == 0`` means "answer normally" (after ``delay``)."""

    status: int
    code: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0

    def payload(self) -> Any:
        """Return the JSON body Teams would send with this status."""
        if self.body is not None:
            return self.body
        return {
            "error": {"code": self.code or "ServiceError", "message": f"scripted {self.status}"}
        }


def throttled(retry_after: float | None = 2) -> Reply:
    """429 Throttled, with ``Retry-After`` seconds when given."""
    headers = {"Retry-After": _seconds(retry_after)} if retry_after is not None else {}
    return Reply(429, "Throttled", headers)


def blocked() -> Reply:
    """403: the user blocked the bot."""
    return Reply(403, "ConversationBlockedByUser")


def not_in_roster() -> Reply:
    """403: the app was removed from the conversation."""
    return Reply(403, "BotNotInConversationRoster")


def not_installed() -> Reply:
    """403: the bot is not installed in the user's personal scope."""
    return Reply(403, "ForbiddenOperationException")


def disabled_by_admin() -> Reply:
    """403: an admin disabled the bot."""
    return Reply(403, "BotDisabledByAdmin")


def writes_blocked() -> Reply:
    """403 with the documented errorCode 209 / MessageWritesBlocked body (no ``error`` object)."""
    body = {
        "errorCode": 209,
        "message": "Message writes blocked",
        "subCode": "MessageWritesBlocked",
    }
    return Reply(403, body=body)


def gone(code: str = "ConversationNotFound") -> Reply:
    """404: the chat (or the message) no longer exists."""
    return Reply(404, code)


def too_large() -> Reply:
    """413: the message is over Teams' size limit."""
    return Reply(413, "MessageSizeTooBig")


def unavailable(status: int = 503) -> Reply:
    """A retryable server answer: 412, 502, 503 or 504."""
    code = "PreconditionFailed" if status == 412 else "ServiceError"
    return Reply(status, code)


def failure(status: int = 400, code: str = "BadArgument") -> Reply:
    """Any other error answer."""
    return Reply(status, code)


def slow(seconds: float) -> Reply:
    """Answer normally, but only after ``seconds``."""
    return Reply(0, delay=seconds)


@dataclass(frozen=True)
class Received:
    """One call the connector received, with its arrival time and what it answered."""

    method: str
    path: str
    conversation_id: str
    activity: dict[str, Any]
    activity_id: str | None
    at: float
    authorization: str | None
    status: int

    @property
    def ok(self) -> bool:
        """Tell whether the call was answered 2xx."""
        return 200 <= self.status < 300

    @property
    def text(self) -> str | None:
        """The activity's text."""
        value = self.activity.get("text")
        return value if isinstance(value, str) else None

    @property
    def card(self) -> dict[str, Any] | None:
        """The first Adaptive Card attachment's content, if any."""
        for attachment in self.activity.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                content = attachment.get("content")
                return content if isinstance(content, dict) else None
        return None


@dataclass(frozen=True)
class Breach:
    """A request that went over one of Teams' rate limits."""

    scope: str
    key: str
    window: float
    limit: int
    count: int
    at: float


_ACTIVITIES = re.compile(r"^/v3/conversations/(?P<cid>[^/]+)/activities(?:/(?P<aid>[^/]+))?$")
_MEMBERS = re.compile(r"^/v3/conversations/(?P<cid>[^/]+)/(?:paged)?members(?:/(?P<mid>[^/]+))?$")


class FakeConnector:
    """A Bot Connector on 127.0.0.1 that records, scripts faults and checks Teams' limits."""

    def __init__(self, *, token_ttl: int = 3600) -> None:
        self._server = ThreadedServer(self._app, name="fake-connector")
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        # Lifetime of the tokens it issues from now on (a test may shorten or lengthen it).
        self.token_ttl = token_ttl
        self._received: dict[str, list[Received]] = defaultdict(list)
        self._scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._tenant_scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._tenants: dict[str, str] = {}
        self._members: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self._users: dict[str, dict[str, Any]] = {}
        self._conversation_times: dict[str, deque[float]] = defaultdict(deque)
        self._tenant_times: dict[str, deque[float]] = defaultdict(deque)
        self._breaches: list[Breach] = []
        self._created: list[dict[str, Any]] = []
        self._tokens: list[str] = []

    # ---- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Start serving on an ephemeral port."""
        await self._server.start()

    async def stop(self) -> None:
        """Stop serving."""
        await self._server.stop()

    @property
    def url(self) -> str:
        """The service URL to put in activities (no trailing slash)."""
        return self._server.url

    @property
    def token_url(self) -> str:
        """The client-credentials token endpoint."""
        return f"{self.url}/botframework.com/oauth2/v2.0/token"

    # ---- control ----------------------------------------------------------------------------

    def script(self, conversation_id: str, replies: Iterable[Reply]) -> None:
        """Queue answers for the next calls on a conversation (``CREATE_KEY``: 1:1 creates)."""
        with self._lock:
            self._scripts[conversation_id].extend(replies)

    def script_tenant(self, tenant_id: str, replies: Iterable[Reply]) -> None:
        """Queue answers for the next calls of any conversation of a tenant."""
        with self._lock:
            self._tenant_scripts[tenant_id].extend(replies)

    def add_member(self, conversation_id: str | None, member: Mapping[str, Any]) -> None:
        """Put a member in a conversation's roster (``None``: known in every conversation)."""
        with self._lock:
            if conversation_id is None:
                self._users[str(member["id"])] = dict(member)
            else:
                self._members[conversation_id][str(member["id"])] = dict(member)

    def set_tenant(self, conversation_id: str, tenant_id: str) -> None:
        """Tell which tenant a conversation belongs to (learned from bodies otherwise)."""
        with self._lock:
            self._tenants[conversation_id] = tenant_id

    def reset(self) -> None:
        """Forget everything received, scripted, counted and created."""
        with self._lock:
            self._received.clear()
            self._scripts.clear()
            self._tenant_scripts.clear()
            self._conversation_times.clear()
            self._tenant_times.clear()
            self._breaches.clear()
            self._created.clear()
            self._tokens.clear()

    # ---- inspection -------------------------------------------------------------------------

    def activities(self, conversation_id: str) -> list[Received]:
        """Every call received for a conversation, in arrival order (failed ones included)."""
        with self._lock:
            return list(self._received.get(conversation_id, ()))

    def sent(self, conversation_id: str) -> list[Received]:
        """The messages delivered to a conversation (2xx POSTs)."""
        return [r for r in self.activities(conversation_id) if r.method == "POST" and r.ok]

    def updates(self, conversation_id: str) -> list[Received]:
        """The in-place updates accepted for a conversation (2xx PUTs)."""
        return [r for r in self.activities(conversation_id) if r.method == "PUT" and r.ok]

    def total(self) -> int:
        """How many activity calls arrived, across conversations."""
        with self._lock:
            return sum(len(items) for items in self._received.values())

    @property
    def breaches(self) -> list[Breach]:
        """Every request that went over a Teams limit."""
        with self._lock:
            return list(self._breaches)

    @property
    def created(self) -> list[dict[str, Any]]:
        """The create-conversation requests accepted (bodies plus the new ``id``)."""
        with self._lock:
            return list(self._created)

    @property
    def token_requests(self) -> int:
        """How many tokens the token endpoint issued."""
        with self._lock:
            return len(self._tokens)

    def issued(self, token: str) -> bool:
        """Tell whether ``token`` came from this connector's token endpoint."""
        with self._lock:
            return token in self._tokens

    async def wait_for(
        self, conversation_id: str, count: int = 1, *, timeout: float = 10.0, updates: bool = False
    ) -> list[Received]:
        """Wait until ``count`` messages (or updates) were delivered to a conversation."""
        deadline = time.monotonic() + timeout
        while True:
            items = self.updates(conversation_id) if updates else self.sent(conversation_id)
            if len(items) >= count:
                return items
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{conversation_id}: {len(items)} of {count} deliveries after {timeout}s"
                )
            await asyncio.sleep(0.02)

    # ---- the server -------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_route("*", "/v3/conversations/{tail:.+}", self._conversation)
        return app

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        now = int(time.time())
        claims = {"aud": str(form.get("scope", "")), "appid": str(form.get("client_id", ""))}
        claims |= {"iat": now, "exp": now + self.token_ttl, "jti": str(next(self._ids))}
        token = jwt.encode(claims, "fake-connector-token-key-000000000000", algorithm="HS256")
        with self._lock:
            self._tokens.append(token)
        body = {"token_type": "Bearer", "expires_in": self.token_ttl, "access_token": token}
        return web.json_response(body)

    async def _create(self, request: web.Request) -> web.Response:
        body = await _json(request)
        tenant = _tenant_of(body)
        reply = self._next_reply(CREATE_KEY, tenant, counted=None)
        if reply is not None and reply.delay:
            await asyncio.sleep(reply.delay)
        if reply is not None and reply.status:
            return _answer(reply)
        conversation_id = f"a:fake-{next(self._ids)}"
        members = body.get("members") or [{}]
        with self._lock:
            if tenant:
                self._tenants[conversation_id] = tenant
            for member in members:
                if member.get("id"):
                    self._members[conversation_id].setdefault(str(member["id"]), dict(member))
            self._created.append({**body, "id": conversation_id})
        return web.json_response(
            {"id": conversation_id, "serviceUrl": self.url, "activityId": None}, status=201
        )

    async def _conversation(self, request: web.Request) -> web.Response:
        path = request.path
        if match := _ACTIVITIES.match(path):
            return await self._activity(request, match["cid"], match["aid"])
        if match := _MEMBERS.match(path):
            return self._member(match["cid"], match["mid"])
        return web.json_response({"error": {"code": "NotFound", "message": path}}, status=404)

    async def _activity(
        self, request: web.Request, conversation_id: str, activity_id: str | None
    ) -> web.Response:
        arrived = time.monotonic()
        body = await _json(request) if request.method in ("POST", "PUT") else {}
        tenant = _tenant_of(body)
        with self._lock:
            if tenant:
                self._tenants.setdefault(conversation_id, tenant)
        reply = self._next_reply(conversation_id, tenant, counted=arrived)
        if reply is not None and reply.delay:
            await asyncio.sleep(reply.delay)
        if reply is not None and reply.status:
            self._record(request, conversation_id, body, activity_id, arrived, reply.status)
            return _answer(reply)
        if request.method == "POST":
            new_id = f"m-{next(self._ids)}"
            self._record(request, conversation_id, body, new_id, arrived, 201)
            return web.json_response({"id": new_id}, status=201)
        if request.method == "PUT":
            self._record(request, conversation_id, body, activity_id, arrived, 200)
            return web.json_response({"id": activity_id}, status=200)
        if request.method == "DELETE":
            self._record(request, conversation_id, body, activity_id, arrived, 200)
            return web.Response(status=200)
        return web.json_response({"error": {"code": "MethodNotAllowed"}}, status=405)

    def _member(self, conversation_id: str, member_id: str | None) -> web.Response:
        with self._lock:
            self._count_tenant(self._tenants.get(conversation_id, ""), time.monotonic())
            roster = {**self._users, **self._members.get(conversation_id, {})}
        if member_id is None:
            return web.json_response(list(roster.values()))
        member = roster.get(member_id)
        if member is None:
            # Teams also finds members by AAD object id.
            member = next((m for m in roster.values() if m.get("aadObjectId") == member_id), None)
        if member is None:
            body = {"error": {"code": "MemberNotFoundInConversation", "message": member_id}}
            return web.json_response(body, status=404)
        return web.json_response(member)

    def _next_reply(self, key: str, tenant: str, *, counted: float | None) -> Reply | None:
        with self._lock:
            tenant = tenant or self._tenants.get(key, "")
            now = time.monotonic()
            if counted is not None:
                self._count(self._conversation_times[key], CONVERSATION_LIMITS, "conversation", key)
            self._count_tenant(tenant, now)
            queue = self._scripts.get(key)
            if queue:
                return queue.popleft()
            tenant_queue = self._tenant_scripts.get(tenant) if tenant else None
            if tenant_queue:
                return tenant_queue.popleft()
            return None

    def _count_tenant(self, tenant: str, now: float) -> None:
        if tenant:
            self._count(self._tenant_times[tenant], TENANT_LIMITS, "tenant", tenant)

    def _count(
        self, times: deque[float], limits: Sequence[tuple[float, int]], scope: str, key: str
    ) -> None:
        now = time.monotonic()
        times.append(now)
        longest = max(window for window, _ in limits)
        while times and times[0] <= now - longest:
            times.popleft()
        for window, limit in limits:
            count = sum(1 for moment in times if moment > now - window)
            if count > limit:
                self._breaches.append(Breach(scope, key, window, limit, count, now))

    def _record(
        self,
        request: web.Request,
        conversation_id: str,
        body: dict[str, Any],
        activity_id: str | None,
        arrived: float,
        status: int,
    ) -> None:
        received = Received(
            method=request.method,
            path=request.path,
            conversation_id=conversation_id,
            activity=body,
            activity_id=activity_id,
            at=arrived,
            authorization=request.headers.get("Authorization"),
            status=status,
        )
        with self._lock:
            self._received[conversation_id].append(received)


async def _json(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _tenant_of(body: Mapping[str, Any]) -> str:
    conversation = body.get("conversation") or {}
    channel_data = body.get("channelData") or {}
    tenant = (
        (channel_data.get("tenant") or {}).get("id") if isinstance(channel_data, dict) else None
    )
    return str(
        conversation.get("tenantId")
        or conversation.get("tenantID")
        or body.get("tenantId")
        or body.get("tenantID")
        or tenant
        or ""
    )


def _answer(reply: Reply) -> web.Response:
    return web.json_response(reply.payload(), status=reply.status, headers=dict(reply.headers))


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class ConnectorCredentialsFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """Outbound credentials for the bot under test: client-credentials tokens from the fake.

    Stands in for Entra (MSAL) only; the app's own caching factory wraps it as in production.
    """

    def __init__(self, connector: FakeConnector, app_id: str, password: str) -> None:
        self._connector = connector
        self.app_id = app_id
        self._password = password

    async def is_valid_app_id(self, app_id: str) -> bool:
        """Accept only the configured app id."""
        return app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        """Auth is off without an app id, as in the SDK."""
        return not self.app_id

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        """Return credentials fetching tokens from the fake's token endpoint."""
        if not await self.is_valid_app_id(app_id):
            raise PermissionError("Invalid app_id")
        return _TokenEndpointCredentials(
            app_id, self._password, self._connector.token_url, oauth_scope
        )


class _TokenEndpointCredentials(AppCredentials):  # type: ignore[misc]
    def __init__(self, app_id: str, password: str, token_url: str, scope: str) -> None:
        super().__init__(app_id=app_id, oauth_scope=scope)
        self._password = password
        self._token_url = token_url

    def get_access_token(self, force_refresh: bool = False) -> str:
        scope = (
            self.oauth_scope
            if self.oauth_scope.endswith("/.default")
            else f"{self.oauth_scope}/.default"
        )
        answer = requests.post(
            self._token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.microsoft_app_id,
                "client_secret": self._password,
                "scope": scope,
            },
            timeout=5,
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])
