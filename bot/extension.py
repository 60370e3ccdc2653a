"""The message action "Abrir chamado / Open ticket": a prefilled form in a dialog, then a ticket.

``composeExtension/fetchTask`` answers the form (a dialog) prefilled from the message;
``composeExtension/submitAction`` validates it like the bot's own form and opens the ticket for
the user who clicked. Nothing is posted where the message lives: the ticket's card goes to the
user's 1:1 chat with the bot through the outbox, like every later agent reply. A user we have
no 1:1 chat for gets one opened when the app is installed for them; otherwise the answer says
how to add the app.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import cards
from bot import views
from bot.extension_prefill import message_form_id, prefill
from bot.gateway import Delivery, TeamsGateway
from bot.identity import locale_of, tenant_of
from bot.limits import RateLimiter, create_chat
from bot.source_message import SourceMessage, parse_source
from cards import InvalidAction, Verb, parse_action
from db import accounts
from db import teams as teams_repo
from db.models import Origin
from i18n import Locale, t
from tickets.deliveries import TicketCard, queue
from tickets.errors import FormInvalid, HelpdeskRejected, HelpdeskUnavailable
from tickets.service import TicketService
from tickets.settings import Settings
from tickets.users import find_or_create_entra_user

log = logging.getLogger(__name__)

COMMAND_ID: Final = "openTicketFromMessage"
FETCH_TASK: Final = "composeExtension/fetchTask"
SUBMIT_ACTION: Final = "composeExtension/submitAction"
INVOKES: Final = frozenset({FETCH_TASK, SUBMIT_ACTION})
CARD_TYPE: Final = "application/vnd.microsoft.card.adaptive"
# Teams gives an invoke 5 seconds; the author's e-mail is a nicety that must not eat them.
ROSTER_TIMEOUT: Final = 1.5
CREATE_TIMEOUT: Final = 2.0


@dataclass(frozen=True, slots=True)
class Clicker:
    """The Teams user who used the action: Entra object id and tenant, from the signed activity."""

    oid: str
    tenant: str
    name: str | None


def clicker_of(activity: Activity) -> Clicker | None:
    """Return who clicked, or None when Teams did not say (same rules as every bot turn)."""
    sender = activity.from_property
    oid = getattr(sender, "aad_object_id", None) if sender is not None else None
    # Only Teams itself vouches for `from`; other channels let the client write it.
    if not oid or activity.channel_id != "msteams":
        return None
    name = " ".join(str(getattr(sender, "name", "") or "").split()) or None
    return Clicker(str(oid), tenant_of(activity), name)


class MessageActions:
    """Answer the message action's two invokes."""

    def __init__(
        self,
        service: TicketService,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        gateway: TeamsGateway | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._service = service
        self._sessions = sessions
        self._settings = settings
        self._gateway = gateway
        self._limiter = limiter

    async def handle(self, context: TurnContext) -> InvokeResponse:
        """Answer ``fetchTask`` with the dialog and ``submitAction`` with the dialog or a line."""
        activity = context.activity
        locale = locale_of(activity, self._settings.DEFAULT_LOCALE)
        value = activity.value if isinstance(activity.value, Mapping) else {}
        if value.get("commandId") != COMMAND_ID:
            log.info("refused a message action for command %r", str(value.get("commandId"))[:64])
            return task_message(t("bot.invalid_action", locale))
        clicker = clicker_of(activity)
        if clicker is None:
            return task_message(t("bot.no_identity", locale))
        try:
            if activity.name == FETCH_TASK:
                return await self._fetch(context, value, clicker, locale)
            return await self._submit(activity, value, clicker, locale)
        except Exception:
            # The dialog shows the id to quote; the source message and chat are untouched.
            error_id = uuid.uuid4().hex[:12]
            log.exception("message action %s failed [%s]", activity.name, error_id)
            return task_message(t("bot.error_id", locale, error_id=error_id))

    async def _fetch(
        self, context: TurnContext, value: Mapping[str, Any], clicker: Clicker, locale: Locale
    ) -> InvokeResponse:
        source = parse_source(value, context.activity)
        if source is None:
            return task_message(t("bot.ext.no_message", locale))
        email = None
        if source.author_oid and source.author_oid != clicker.oid:
            email = await self._author_email(context, source.author_oid, clicker.tenant)
        filled = prefill(source, clicker.oid, locale, author_email=email)
        form_id = self._form_id(context.activity, source) or views.new_form_id()
        return self._dialog(form_id, locale, values=filled.values, notice=filled.notice)

    async def _submit(
        self, activity: Activity, value: Mapping[str, Any], clicker: Clicker, locale: Locale
    ) -> InvokeResponse:
        data = value.get("data")
        try:
            action = parse_action(data if isinstance(data, Mapping) else {})
        except InvalidAction as exc:
            log.info("refused a message action submit: %s", exc)
            return task_message(t("bot.invalid_action", locale))
        if action.verb is not Verb.CREATE or action.form_id is None:
            return task_message(t("bot.invalid_action", locale))
        # The message Teams names wins over the card's echo: one ticket per user and message.
        source = parse_source(value, activity)
        form_id = (self._form_id(activity, source) if source else None) or action.form_id
        inputs = dict(action.inputs)
        try:
            # Checked before the user is created: a bad form leaves nothing behind.
            self._service.validate_ticket_form(inputs)
        except FormInvalid as invalid:
            return self._dialog(form_id, locale, values=inputs, errors=invalid.errors)
        user_id = await self._user(clicker, locale)
        try:
            info = await self._service.open_ticket(
                user_id,
                inputs,
                origin=Origin.TEAMS,
                idempotency_key=f"teams-msg:{user_id}:{form_id}",
            )
        except FormInvalid as invalid:
            return self._dialog(form_id, locale, values=inputs, errors=invalid.errors)
        except (HelpdeskUnavailable, HelpdeskRejected) as failed:
            notice = views.failure_text(failed, locale)
            return self._dialog(form_id, locale, values=inputs, notice=notice)
        title = " ".join(info.title.split())
        app = self._settings.BOT_NAME
        if await self._queue_card(user_id, info.id, clicker, activity.service_url or ""):
            return task_message(t("bot.ext.created", locale, id=info.id, title=title, app=app))
        url = f"{self._settings.base_url}/tickets/{info.id}"
        line = t("bot.ext.created.no_chat", locale, id=info.id, title=title, app=app, url=url)
        return task_message(line)

    def _dialog(self, form_id: str, locale: Locale, **view: Any) -> InvokeResponse:
        card = cards.message_ticket_card(views.form_view(self._settings, form_id, **view), locale)
        return task_dialog(card, t("bot.ext.dialog_title", locale))

    @staticmethod
    def _form_id(activity: Activity, source: SourceMessage) -> str | None:
        if not source.id or activity.conversation is None or not activity.conversation.id:
            return None
        return message_form_id(tenant_of(activity), activity.conversation.id, source.id)

    async def _user(self, clicker: Clicker, locale: Locale) -> int:
        """Find or create the clicking user; no conversation reference (this is not a 1:1 chat)."""
        async with self._sessions.begin() as session:
            user = await find_or_create_entra_user(
                session,
                oid=clicker.oid,
                tid=clicker.tenant,
                name=clicker.name,
                email=None,
                locale=locale,
            )
            return user.id

    async def _queue_card(
        self, user_id: int, ticket_id: int, clicker: Clicker, service_url: str
    ) -> bool:
        """Queue the ticket's card for the user's 1:1 chats (opened if need be); False if none."""
        async with self._sessions() as session:
            known = await teams_repo.active_references(session, user_id)
        if not known and await self._open_personal_chat(user_id, clicker, service_url) is None:
            return False
        async with self._sessions.begin() as session:
            # A second submit of the same form finds the same ticket: still one card.
            chats = await queue(
                session,
                user_id=user_id,
                ticket_id=ticket_id,
                delivery=TicketCard(ticket_id),
                key=f"ticket_card:{ticket_id}",
            )
        return chats > 0

    async def _open_personal_chat(
        self, user_id: int, clicker: Clicker, service_url: str
    ) -> str | None:
        """Open the bot's 1:1 chat with a user we have none for; None if the app is not theirs."""
        if self._gateway is None or not service_url:
            return None
        try:
            delivery, reference = await asyncio.wait_for(
                self._create_chat(clicker, service_url), CREATE_TIMEOUT
            )
        except TimeoutError:
            delivery, reference = None, None
        conversation = str(((reference or {}).get("conversation") or {}).get("id") or "")
        if reference is None or not conversation:
            # Mostly 403: the app is not installed for this user personally (REFERENCE §4.3).
            log.info("no 1:1 chat for a message-action user: %s", delivery)
            return None
        async with self._sessions.begin() as session:
            await teams_repo.save_reference(
                session,
                user_id=user_id,
                tenant_id=clicker.tenant,
                conversation_id=conversation,
                service_url=str(reference.get("serviceUrl") or service_url),
                reference=reference,
            )
        return conversation

    async def _create_chat(
        self, clicker: Clicker, service_url: str
    ) -> tuple[Delivery | None, dict[str, Any] | None]:
        """Create the 1:1 chat inside the tenant's Teams limits (a slot in the shared log)."""
        assert self._gateway is not None
        if self._limiter is None:
            return await self._gateway.create_personal_conversation(
                service_url=service_url, tenant_id=clicker.tenant, user_aad_id=clicker.oid
            )
        _, delivery, reference = await create_chat(
            self._limiter,
            self._gateway,
            tenant_id=clicker.tenant,
            service_url=service_url,
            oid=clicker.oid,
            patience=CREATE_TIMEOUT,
        )
        return delivery, reference

    async def _author_email(self, context: TurnContext, oid: str, tenant: str) -> str | None:
        """Return the author's e-mail if we know them, else as the roster says; None otherwise."""
        async with self._sessions() as session:
            known = await accounts.user_by_entra(session, oid, tenant)
        if known is not None and known.email:
            return str(known.email)
        try:
            member = await asyncio.wait_for(TeamsInfo.get_member(context, oid), ROSTER_TIMEOUT)
        except Exception as exc:  # the bot is often not in that chat; the user can type it
            log.info("no roster entry for a message author: %s", type(exc).__name__)
            return None
        email = getattr(member, "email", None) or getattr(member, "user_principal_name", None)
        return str(email) if email and "@" in str(email) else None


def task_dialog(card: dict[str, Any], title: str) -> InvokeResponse:
    """Answer with a dialog showing ``card`` (a new one, or the same one with errors)."""
    attachment = {"contentType": CARD_TYPE, "content": card}
    value = {"title": title, "width": "large", "height": "large", "card": attachment}
    return InvokeResponse(status=200, body={"task": {"type": "continue", "value": value}})


def task_message(text: str) -> InvokeResponse:
    """Answer with a short message that closes the dialog."""
    return InvokeResponse(status=200, body={"task": {"type": "message", "value": text}})
