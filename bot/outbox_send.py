"""One outbox delivery: render the row, send it inside Teams' limits, record the outcome.

The worker (``bot.outbox``) leases rows and hands each to ``Sender.deliver``; everything that
happens to one row from then on (the limiter's slot, a re-created 1:1 chat, the plain-text
fallback for a card Teams finds too large, the retry schedule) lives here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field, replace
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import cards
from bot.gateway import Delivery, Outcome, OutgoingMessage, TeamsGateway
from bot.limits import RateLimiter, create_chat, record_throttle
from bot.outbox_render import Rendered, render
from db import accounts, teams
from db import outbox as store
from db.models import OutboxState, ReferenceState
from tickets import trace
from tickets.attachments import FileLinks
from tickets.deliveries import show_card_at

log = logging.getLogger(__name__)

# A limiter wait longer than this puts the row back instead of holding its lease.
PATIENCE: Final = 5.0
MAX_ATTEMPTS: Final = 8
BACKOFF_BASE: Final = 0.5
BACKOFF_CAP: Final = 60.0


# About ten minutes of tries at most 5 s apart: the horizon of a live worker's lease.
RECORD_TRIES: Final = 125


def transient_backoff(attempts: int) -> float:
    """Return the jittered exponential delay before retry number `attempts` (1-based)."""
    ceiling: float = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(attempts - 1, 0))
    return ceiling * (0.5 + random.random() / 2)


@dataclass
class OutboxStats:
    """What this process's worker did (read by tests and benches)."""

    # Claim passes run (due rows looked for): a test waits for passes, not for the clock.
    passes: int = 0
    claimed: int = 0
    sent: int = 0
    throttled: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    recreated: int = 0
    lost_leases: int = 0


@dataclass(frozen=True)
class RenderSettings:
    """What rendering needs besides the row: the web page's address, a locale, choice labels."""

    base_url: str
    default_locale: str
    labels: cards.ChoiceLabels = field(default_factory=dict)
    links: FileLinks | None = None


class Sender:
    """Deliver one leased row at a time (many run concurrently) and release it with its outcome."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        gateway: TeamsGateway,
        limiter: RateLimiter,
        view: RenderSettings,
        *,
        stats: OutboxStats,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._sessions = sessions
        self._gateway = gateway
        self.limiter = limiter
        self._view = view
        self.stats = stats
        self._max_attempts = max_attempts

    async def deliver(self, claim: store.Claim) -> None:
        """Render, send and record one claimed row; never raises but for cancellation."""
        try:
            await self._attempt(claim)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Our own failure (database, rendering): retry like a transient fault, bounded.
            log.exception("outbox: delivering row %d failed", claim.id)
            with contextlib.suppress(Exception):
                await self._record(claim, Delivery(Outcome.TRANSIENT, detail=repr(exc)[:300]))

    async def _attempt(self, claim: store.Claim) -> None:
        rendered = await render(
            self._sessions,
            claim,
            default_locale=self._view.default_locale,
            base_url=self._view.base_url,
            labels=self._view.labels,
            links=self._view.links,
        )
        trace.mark("outbox.rendered", claim.id)
        if rendered.skip is not None:
            async with self._sessions.begin() as session:
                await store.finish(
                    session, claim, OutboxState.CANCELLED, rendered.skip, attempt=False
                )
            self.stats.cancelled += 1
            return
        delivery = await self._call(claim, rendered)
        if delivery is None:
            return
        if delivery.outcome is Outcome.GONE and rendered.activity_id is None:
            recreated = await self._recreate(claim)
            if recreated is None:
                return
            claim = recreated
            delivery = await self._call(claim, rendered)
            if delivery is None:
                return
            if delivery.outcome is Outcome.GONE:
                delivery = replace(delivery, outcome=Outcome.FAILED, detail="gone after re-create")
        if delivery.outcome is Outcome.TOO_LARGE and rendered.fallback is not None:
            # The plain line is no card: the ticket's card stays where it was.
            rendered = Rendered(message=OutgoingMessage(text=rendered.fallback))
            fallback = await self._call(claim, rendered)
            if fallback is None:
                return
            delivery = fallback
        if delivery.outcome is Outcome.SENT:
            trace.mark("outbox.sent", claim.id)
            await self._record_sent(claim, delivery, shown=rendered)
            trace.mark("outbox.recorded", claim.id)
            return
        await self._record(claim, delivery)

    async def _record_sent(
        self, claim: store.Claim, delivery: Delivery, *, shown: Rendered
    ) -> None:
        """Store a send Teams accepted, retrying through a database blip.

        Never downgraded to a retryable outcome: that would post the message a second time.
        A live worker's lease lasts until it records the outcome (`db.outbox.LIVE_LEASES`), so
        this keeps trying about that long; only a database away longer lets the row go again.
        """
        delay = 0.2
        for _ in range(RECORD_TRIES):
            try:
                await self._record(claim, delivery, shown=shown)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("outbox: storing row %d as sent failed; retrying", claim.id)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        log.error("outbox: row %d was sent but could not be stored; its lease will lapse", claim.id)

    async def _call(self, claim: store.Claim, rendered: Rendered) -> Delivery | None:
        """Reserve a slot and make one request; None when the row was put back to wait."""
        assert rendered.message is not None
        async with self.limiter.slot(claim.tenant_id, claim.target, patience=PATIENCE) as grant:
            if grant.wait == 0:
                trace.mark("outbox.reserved", claim.id)
                if rendered.activity_id is not None:
                    delivery = await self._gateway.update(
                        claim.reference, rendered.activity_id, rendered.message
                    )
                else:
                    delivery = await self._gateway.send(claim.reference, rendered.message)
                if delivery.in_flight:
                    grant.in_doubt()
                return delivery
        async with self._sessions.begin() as session:
            await store.reschedule(session, claim, delay=grant.wait, count_attempt=False)
        return None

    async def _recreate(self, claim: store.Claim) -> store.Claim | None:
        """Open a new 1:1 chat for a conversation Teams says is gone; None if that failed."""
        async with self._sessions() as session:
            user = await accounts.get_user(session, claim.user_id)
            oid = user.entra_oid if user is not None else None
        if not oid:
            await self._record(claim, Delivery(Outcome.FAILED, detail="gone; no Entra id"))
            return None
        wait, created, reference = await create_chat(
            self.limiter,
            self._gateway,
            tenant_id=claim.tenant_id,
            service_url=claim.service_url,
            oid=oid,
            patience=PATIENCE,
        )
        if created is None:
            async with self._sessions.begin() as session:
                await store.reschedule(session, claim, delay=wait, count_attempt=False)
            return None
        if not created.ok or reference is None:
            if created.outcome is Outcome.SENT:
                created = Delivery(Outcome.FAILED, detail="create returned no reference")
            await self._record(claim, created)
            return None
        conversation = str((reference.get("conversation") or {}).get("id") or "")
        service_url = str(reference.get("serviceUrl") or claim.service_url)
        if not conversation:
            await self._record(claim, Delivery(Outcome.FAILED, detail="created chat has no id"))
            return None
        async with self._sessions.begin() as session:
            await teams.mark_reference(session, claim.target, ReferenceState.GONE)
            await teams.save_reference(
                session,
                user_id=claim.user_id,
                tenant_id=claim.tenant_id,
                conversation_id=conversation,
                service_url=service_url,
                reference=reference,
            )
            await store.retarget_pending(session, claim.target, conversation)
        self.stats.recreated += 1
        log.info("outbox: re-created the 1:1 chat of user %d", claim.user_id)
        return replace(claim, target=conversation, service_url=service_url, reference=reference)

    async def _record(
        self, claim: store.Claim, delivery: Delivery, *, shown: Rendered | None = None
    ) -> None:
        """Release the lease with the outcome, in one transaction; wake the other workers."""
        outcome = delivery.outcome
        reason = _reason(delivery)
        async with self._sessions.begin() as session:
            if outcome is Outcome.SENT:
                owned = await store.mark_sent(session, claim, delivery.activity_id)
                if owned and shown and shown.live and claim.ticket_id and delivery.activity_id:
                    # Later changes update this very message in place; the card it
                    # replaces in this chat collapses to a summary.
                    await show_card_at(
                        session,
                        user_id=claim.user_id,
                        ticket_id=claim.ticket_id,
                        conversation_id=claim.target,
                        activity_id=delivery.activity_id,
                        reply_id=shown.reply_id,
                    )
                self.stats.sent += 1
            elif outcome is Outcome.THROTTLED:
                delay = await record_throttle(
                    session, claim.tenant_id, claim.target, delivery.retry_after
                )
                owned = await store.reschedule(
                    session, claim, delay=delay, count_attempt=False, error=reason
                )
                self.stats.throttled += 1
            elif outcome is Outcome.TRANSIENT and claim.attempts + 1 < self._max_attempts:
                owned = await store.reschedule(
                    session,
                    claim,
                    delay=transient_backoff(claim.attempts + 1),
                    count_attempt=True,
                    error=reason,
                )
                self.stats.retried += 1
            elif outcome in (Outcome.BLOCKED, Outcome.UNINSTALLED):
                state = ReferenceState(str(outcome))
                await teams.mark_reference(session, claim.target, state)
                owned = await store.cancel_pending(session, claim.target, reason) > 0
                self.stats.cancelled += 1
            else:
                if outcome is Outcome.TRANSIENT:
                    reason = f"gave up after {claim.attempts + 1} attempts: {reason}"
                owned = await store.finish(session, claim, OutboxState.FAILED, reason)
                self.stats.failed += 1
            await store.wake_workers(session)
        if not owned:
            self.stats.lost_leases += 1
            log.warning("outbox: row %d's lease ran out before its outcome was stored", claim.id)


def _reason(delivery: Delivery) -> str:
    parts = [str(delivery.outcome)]
    if delivery.status is not None:
        parts.append(str(delivery.status))
    if delivery.code:
        parts.append(delivery.code)
    if delivery.detail:
        parts.append(delivery.detail)
    return " ".join(parts)
