"""Card actions: each verb, from an Execute invoke or a Submit fallback, becomes the next card."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import cards
from bot import views
from bot.answer_actions import AnswerActions
from bot.help import TeamsHelp
from bot.identity import Caller
from cards import ActionData, Verb
from db.models import Origin
from i18n import t
from tickets.answers import AnswerService
from tickets.deliveries import show_card_at
from tickets.errors import (
    FormInvalid,
    HelpdeskRejected,
    HelpdeskUnavailable,
    TicketError,
    TicketNotFound,
)
from tickets.help import HelpService
from tickets.presence import PresenceService
from tickets.service import TicketService
from tickets.settings import Settings

log = logging.getLogger(__name__)

# Verbs after which the employee has the ticket's card (and its messages) in front of them.
_SHOWS_TICKET = frozenset({Verb.OPEN, Verb.REFRESH, Verb.REPLY, Verb.REOPEN, Verb.CREATE})

# Typed text follows the current ticket while it was chosen this recently; later, with several
# tickets open, the bot asks again.
CURRENT_TICKET_FRESH = timedelta(minutes=15)

Card = dict[str, Any]


@dataclass(frozen=True)
class CardPlace:
    """Where the clicked card lives: its conversation and message id (when Teams tells us)."""

    conversation_id: str
    activity_id: str | None


@dataclass(frozen=True)
class FreeText:
    """Where typed text goes: one ticket, or a choice among the open ones (neither: nowhere)."""

    ticket_id: int | None
    open_tickets: list[cards.TicketSummary]


@dataclass(frozen=True)
class ActionResult:
    """The card to show in place of the clicked one, and a plain line to send, if any."""

    card: Card
    ticket_id: int | None = None
    notice: str | None = None


class CardActions:
    """Run card verbs for a caller; the same code serves Action.Execute and Action.Submit."""

    def __init__(
        self,
        service: TicketService,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        help_service: HelpService | None = None,
        answers: AnswerService | None = None,
        presence: PresenceService | None = None,
    ) -> None:
        self._service = service
        # Ratings, answers to bot questions, "resolved, thanks" (bot/answer_actions.py).
        self.answers = AnswerActions(service, sessions, answers)
        self._sessions = sessions
        self._settings = settings
        self._presence = presence
        self.help = TeamsHelp(help_service or HelpService(sessions, None))
        # One create at a time per form, so a double click waits for the first and reuses it.
        self._forms: dict[str, asyncio.Lock] = {}

    async def run(self, caller: Caller, action: ActionData, place: CardPlace) -> ActionResult:
        """Perform ``action`` and return what replaces the card."""
        locale = caller.locale
        try:
            result = await self._dispatch(caller, action)
        except TicketNotFound:
            result = ActionResult(await self._history(caller, 1), notice=t("bot.not_found", locale))
        if result.ticket_id is not None:
            await self.remember(caller, result.ticket_id, place)
            if action.verb in _SHOWS_TICKET:
                await self._seen(caller, result.ticket_id)
        return result

    async def _seen(self, caller: Caller, ticket_id: int) -> None:
        """Count the ticket read: its card is what Teams lets us know was shown or answered."""
        if self._presence is None:
            return
        try:
            await self._presence.seen(caller.user_id, ticket_id)
        except TicketError as exc:  # a receipt is a courtesy: the card is shown all the same
            log.info("could not mark ticket %s seen: %r", ticket_id, exc)

    async def remember(self, caller: Caller, ticket_id: int, place: CardPlace) -> None:
        """Record the message that now shows the ticket's card (the outbox updates it later).

        The ticket's card that was newest in this chat collapses to a summary: one full card.
        """
        if not place.activity_id:
            return
        async with self._sessions.begin() as session:
            await show_card_at(
                session,
                user_id=caller.user_id,
                ticket_id=ticket_id,
                conversation_id=place.conversation_id,
                activity_id=place.activity_id,
            )

    async def _dispatch(self, caller: Caller, action: ActionData) -> ActionResult:
        locale = caller.locale
        if action.verb is Verb.NEW:
            # From the "which ticket?" card: the typed message becomes the description.
            typed = action.inputs.get("reply", "").strip()
            return ActionResult(self.form(locale, values={"description": typed} if typed else {}))
        if action.verb in (Verb.CREATE, Verb.HELP_OPEN_ANYWAY):
            assert action.form_id is not None  # parse_action guarantees it
            # "Open the ticket anyway" comes from the suggestions: no second round of them.
            suggest = action.verb is Verb.CREATE
            return await self._create(caller, action.form_id, dict(action.inputs), suggest=suggest)
        if action.verb is Verb.HELP_SOLVED:
            assert action.form_id is not None  # parse_action guarantees it
            return ActionResult(await self.help.solved(caller, action.form_id))
        if action.verb is Verb.LIST:
            return ActionResult(await self._history(caller, action.page or 1))
        assert action.ticket_id is not None  # parse_action guarantees it
        ticket_id = action.ticket_id
        if action.verb is Verb.REPLY:
            return await self._reply(caller, ticket_id, action.inputs.get("reply", ""))
        if action.verb is Verb.REOPEN:
            return await self._reopen(caller, ticket_id)
        if action.verb in (Verb.RATE, Verb.ANSWER):
            assert action.message_id is not None  # parse_action guarantees it
            card, notice = await self.answers.answer(caller, ticket_id, action)
            # No ticket_id: the clicked card is the question's, never the ticket card.
            return ActionResult(card, notice=notice)
        if action.verb is Verb.RESOLVE:
            notice = await self.answers.resolve(caller, ticket_id)
            card = await self.ticket_card(caller, ticket_id)
            return ActionResult(card, ticket_id=ticket_id, notice=notice)
        # OPEN and REFRESH: show the ticket as it is now (rendering checks it is the caller's).
        card = await self.ticket_card(caller, ticket_id)
        await self._service.set_current_ticket(caller.user_id, ticket_id)
        return ActionResult(card, ticket_id=ticket_id)

    async def free_text_target(self, caller: Caller) -> FreeText:
        """Decide where typed text goes, so it never lands silently in the wrong ticket.

        One open ticket: there. Several: the current one while it was chosen lately (so the
        question comes once, not for every line), else the caller picks. None open: the
        current ticket (a message reopens it), if any.
        """
        tickets, total = await self._service.list_tickets(
            caller.user_id, status="open", limit=cards.MAX_CHOICES
        )
        if total == 1:
            return FreeText(tickets[0].id, [])
        current = caller.current_ticket_id
        if total == 0:
            return FreeText(current, [])
        chosen_at = caller.current_ticket_at
        if current is not None and chosen_at is not None:
            fresh = datetime.now(UTC) - chosen_at <= CURRENT_TICKET_FRESH
            if fresh and await self._is_open(caller, current):
                return FreeText(current, [])
        return FreeText(None, list(views.history_view(tickets, total, 1).tickets))

    async def _is_open(self, caller: Caller, ticket_id: int) -> bool:
        try:
            info = await self._service.get_ticket(caller.user_id, ticket_id)
        except TicketNotFound:
            return False
        return info.status != "resolved"

    def form(self, locale: str, **view: Any) -> Card:
        """Return a fresh (or re-rendered) ticket form card."""
        form_id = view.pop("form_id", None) or views.new_form_id()
        return cards.ticket_form_card(views.form_view(self._settings, form_id, **view), locale)

    async def history(self, caller: Caller, page: int = 1) -> Card:
        """Return one page of the caller's history card."""
        return await self._history(caller, page)

    async def ticket_card(self, caller: Caller, ticket_id: int) -> Card:
        """Return the card of one of the caller's tickets."""
        info = await self._service.get_ticket(caller.user_id, ticket_id)
        timeline = await self._service.recent(caller.user_id, ticket_id)
        labels = views.choice_labels(self._settings)
        return views.ticket_card(
            info, timeline, caller.locale, labels, views.file_links(self._settings)
        )

    async def _history(self, caller: Caller, page: int) -> Card:
        _, total = await self._service.list_tickets(caller.user_id, limit=1)
        page = min(max(1, page), views.pages_for(total))
        tickets, total = await self._service.list_tickets(
            caller.user_id, limit=views.PAGE_SIZE, offset=(page - 1) * views.PAGE_SIZE
        )
        return cards.history_card(views.history_view(tickets, total, page), caller.locale)

    async def _create(
        self, caller: Caller, form_id: str, inputs: dict[str, str], *, suggest: bool = True
    ) -> ActionResult:
        locale = caller.locale
        if suggest:
            # Articles are suggested only for a form the service would accept.
            try:
                self._service.validate_ticket_form(inputs)
            except FormInvalid as invalid:
                card = self.form(locale, form_id=form_id, values=inputs, errors=invalid.errors)
                return ActionResult(card)
            suggestions = await self.help.before_create(caller, form_id, inputs)
            if suggestions is not None:
                return ActionResult(suggestions)
        lock = self._forms.setdefault(form_id, asyncio.Lock())
        try:
            async with lock:
                info = await self._service.open_ticket(
                    caller.user_id, inputs, origin=Origin.TEAMS, idempotency_key=f"teams:{form_id}"
                )
        except FormInvalid as invalid:
            card = self.form(locale, form_id=form_id, values=inputs, errors=invalid.errors)
            return ActionResult(card)
        except (HelpdeskUnavailable, HelpdeskRejected) as failed:
            notice = views.failure_text(failed, locale)
            return ActionResult(self.form(locale, form_id=form_id, values=inputs, notice=notice))
        finally:
            if not lock.locked():
                self._forms.pop(form_id, None)
        await self.help.opened(caller, form_id)
        return ActionResult(await self.ticket_card(caller, info.id), ticket_id=info.id)

    async def _reply(self, caller: Caller, ticket_id: int, content: str) -> ActionResult:
        locale = caller.locale
        notice = None
        try:
            await self._service.post_message(
                caller.user_id, ticket_id, content, origin=Origin.TEAMS
            )
        except (FormInvalid, HelpdeskUnavailable, HelpdeskRejected) as failed:
            notice = views.failure_text(failed, locale)
        card = await self.ticket_card(caller, ticket_id)
        return ActionResult(card, ticket_id=ticket_id, notice=notice)

    async def _reopen(self, caller: Caller, ticket_id: int) -> ActionResult:
        locale = caller.locale
        info = await self._service.get_ticket(caller.user_id, ticket_id)
        notice = None
        if info.status == "resolved":
            try:
                await self._service.reopen(caller.user_id, ticket_id, t("bot.reopen_note", locale))
            except (HelpdeskUnavailable, HelpdeskRejected) as failed:
                notice = views.failure_text(failed, locale)
        card = await self.ticket_card(caller, ticket_id)
        return ActionResult(card, ticket_id=ticket_id, notice=notice)
