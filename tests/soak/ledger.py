"""What the soak did and saw: the plan, unique tokens, and the ledger the audit reads."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest

# Where the test leaves the audit table for the terminal summary (tests/soak/conftest.py).
AUDIT_TABLE = pytest.StashKey[str]()

# Every piece of text the soak writes carries one token: T ticket title, E employee message,
# A agent reply, P private note, X bad input, F a file's name. Fixed width, so no token is
# inside another.
TOKEN = re.compile(r"\b([TEAPXF])(\d{7})q\b")


def tokens_in(text: str) -> list[str]:
    """Return every soak token in a text (a JSON dump works too)."""
    return [match.group(0) for match in TOKEN.finditer(text)]


@dataclass(frozen=True)
class Plan:
    """How big and how long the run is, and when each fault strikes (fractions of the load)."""

    load_seconds: float
    web_users: int
    teams_users: int
    agents: int
    think: tuple[float, float]
    agent_pause: tuple[float, float]
    max_tickets: int
    kills: tuple[float, ...]
    outages: tuple[float, ...]
    outage_seconds: float
    pg_drops: tuple[float, ...]
    teams_bursts: tuple[float, ...]
    burst_size: int
    cable_cut_every: float
    bad_input_every: float
    settle_seconds: float

    @classmethod
    def short(cls) -> Plan:
        """The `make test` version: about a minute of load, every fault at least once."""
        return cls(
            load_seconds=60.0,
            web_users=16,
            teams_users=16,
            agents=3,
            think=(1.5, 4.0),
            agent_pause=(0.4, 1.0),
            max_tickets=3,
            kills=(0.35,),
            outages=(0.6,),
            outage_seconds=6.0,
            pg_drops=(0.15, 0.8),
            teams_bursts=(0.1, 0.5, 0.85),
            burst_size=6,
            cable_cut_every=12.0,
            bad_input_every=2.0,
            settle_seconds=60.0,
        )

    @classmethod
    def long(cls, seconds: float, users: int) -> Plan:
        """The `make soak` version: `users` employees for `seconds`, every fault repeated."""
        return cls(
            load_seconds=seconds,
            web_users=users // 2,
            teams_users=users - users // 2,
            agents=8,
            think=(4.0, 12.0),
            agent_pause=(0.5, 1.5),
            max_tickets=4,
            kills=(0.2, 0.45, 0.7, 0.9),
            outages=(0.35, 0.8),
            outage_seconds=20.0,
            pg_drops=(0.1, 0.3, 0.55, 0.75, 0.95),
            teams_bursts=(0.05, 0.25, 0.5, 0.65, 0.85),
            burst_size=20,
            cable_cut_every=20.0,
            bad_input_every=3.0,
            settle_seconds=180.0,
        )


def plan_from_env() -> Plan:
    """The short plan, or the long one when SOAK_SECONDS is set (SOAK_USERS, default 200)."""
    seconds = os.environ.get("SOAK_SECONDS")
    if not seconds:
        return Plan.short()
    return Plan.long(float(seconds), int(os.environ.get("SOAK_USERS") or 200))


def time_limit(plan: Plan) -> float:
    """The pytest timeout a run of this plan gets (load, settling, start-up and audit)."""
    return plan.load_seconds + plan.settle_seconds + 120.0


@dataclass
class TicketRecord:
    """A ticket an employee asked for (its title token is the idempotency key too)."""

    token: str
    owner: str
    ticket_id: int | None = None
    conversation_id: int | None = None
    refused: int = 0
    ambiguous: int = 0


@dataclass
class SentMessage:
    """An employee message: confirmed once the front door said it was sent."""

    token: str
    owner: str
    ticket_token: str
    content: str
    confirmed: bool = False
    refused: int = 0
    ambiguous: int = 0
    # The F token in the name of the file it carries ("" for text only).
    file: str = ""


@dataclass
class BadInput:
    """One hostile or malformed request and how it was answered."""

    name: str
    expected: int
    got: int
    note: str = ""

    @property
    def rejected(self) -> bool:
        """Tell whether it got the status it should have."""
        return self.got == self.expected


@dataclass
class Ledger:
    """Everything done and observed, keyed by the soak's tokens."""

    tickets: dict[str, TicketRecord] = field(default_factory=dict)
    messages: dict[str, SentMessage] = field(default_factory=dict)
    agent_tokens: dict[str, int] = field(default_factory=dict)
    # F token -> the A or E token of the message carrying the file.
    files: dict[str, str] = field(default_factory=dict)
    bad: list[BadInput] = field(default_factory=list)
    # user -> channel -> tokens seen there
    seen: dict[str, dict[str, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    # (user, ticket id) -> item id -> the content of the newest version /ws sent of it
    ws_view: dict[tuple[str, int], dict[int, str]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    ws_repeats: Counter[str] = field(default_factory=Counter)
    foreign_ids: list[tuple[str, str, int]] = field(default_factory=list)
    # Agent reply tokens whose message an agent deleted: never shown again after that.
    deleted: set[str] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    # When a send could have landed without its commit: SIGKILLs (from the kill until the
    # restarted service is up: a killed process's requests still on the wire land in between)
    # and dropped connections (a moment).
    crash_spans: list[tuple[float, float]] = field(default_factory=list)
    # Tokens of the outbox rows a worker held when a SIGKILL landed (send/commit window).
    leased_at_kills: set[str] = field(default_factory=set)
    # Every fault moment with its name (kills, their restarts, drops), to place a duplicate.
    fault_log: list[tuple[float, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def in_crash_window(self, token: str, moment: float, lead: float) -> bool:
        """Tell whether a Teams send at `moment` may have missed its commit in a crash.

        Its outbox row was held by a worker when a SIGKILL landed, or it landed at most `lead`
        seconds before a crash, or while a killed service was down.
        """
        if token in self.leased_at_kills:
            return True
        return any(start - lead <= moment <= end for start, end in self.crash_spans)

    def placed(self, times: list[float]) -> str:
        """Say where each moment falls among the faults: "12.3 s after SIGKILL" and so on."""
        said = []
        for moment in times:
            before = [(at, name) for at, name in self.fault_log if at <= moment]
            if before:
                at, name = max(before)
                said.append(f"{moment - at:.1f} s after {name}")
            else:
                said.append("before any fault")
        return "; ".join(said)

    def observe(self, user: str, channel: str, text: str) -> None:
        """Record the tokens a user was shown on a channel."""
        found = tokens_in(text)
        if found:
            self.seen[user][channel].update(found)

    def ws_items(self, user: str, ticket_id: int) -> Counter[str]:
        """Token -> how many items on the user's live page of a ticket show it now."""
        counts: Counter[str] = Counter()
        for content in self.ws_view[(user, ticket_id)].values():
            counts.update(set(tokens_in(content)))
        return counts

    def error(self, message: str) -> None:
        """Keep an unexpected answer for the report (bounded)."""
        self.counts["unexpected"] += 1
        if len(self.errors) < 50:
            self.errors.append(message)


@dataclass
class Context:
    """Shared state of one run: the plan, the token counter, the ledger and the clocks."""

    plan: Plan
    ledger: Ledger = field(default_factory=Ledger)
    rng: random.Random = field(default_factory=lambda: random.Random(20240611))
    started: float = field(default_factory=time.monotonic)
    load_over: asyncio.Event = field(default_factory=asyncio.Event)
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    _numbers: Any = field(default_factory=lambda: itertools.count(1))

    def token(self, kind: str) -> str:
        """Return a fresh token of a kind (T, E, A, P, X, F)."""
        return f"{kind}{next(self._numbers):07d}q"

    @property
    def elapsed(self) -> float:
        """Seconds since the load started."""
        return time.monotonic() - self.started

    def loading(self) -> bool:
        """Tell whether the load phase is still on."""
        return not self.load_over.is_set()

    async def pause(self, bounds: tuple[float, float]) -> None:
        """Sleep a random time within bounds, waking early when the load ends."""
        delay = self.rng.uniform(*bounds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.load_over.wait(), delay)
