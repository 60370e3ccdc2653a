"""The activity handler: parse what Teams sent, call the ticket service, answer with cards."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import httpx
from botbuilder.core import BotAdapter, CardFactory, InvokeResponse, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ActivityTypes
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import cards
from bot import views
from bot.actions import ActionResult, CardActions, CardPlace
from bot.commands import Command, parse_command
from bot.extension import INVOKES as MESSAGE_ACTION_INVOKES
from bot.extension import MessageActions
from bot.files import DownloadFailed, IncomingFile, download, incoming_files
from bot.gateway import TeamsGateway
from bot.help import search_query
from bot.identity import Caller, Identities, locale_of
from bot.limits import RateLimiter
from cards import InvalidAction, parse_action
from db.models import Origin
from i18n import t
from tickets.answers import AnswerService
from tickets.errors import FormInvalid, HelpdeskRejected, HelpdeskUnavailable, TicketNotFound
from tickets.help import HelpService
from tickets.presence import PresenceService
from tickets.service import TicketService
from tickets.settings import Settings
from tickets.uploads import Upload, UploadPolicy, UploadRefused, spooled

log = logging.getLogger(__name__)

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
ERROR_TYPE = "application/vnd.microsoft.error"


def card_message(card: dict[str, Any]) -> Activity:
    """Wrap a card in a message activity."""
    return MessageFactory.attachment(CardFactory.adaptive_card(card))


def text_message(text: str) -> Activity:
    """Build a plain-text message (no Markdown surprises in user-supplied titles)."""
    return Activity(type=ActivityTypes.message, text=text, text_format="plain")


class TicketsBot(TeamsActivityHandler):  # type: ignore[misc]
    """The helpdesk bot: welcome, commands, free text to the ticket it is for, card actions."""

    def __init__(
        self,
        service: TicketService,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        help_service: HelpService | None = None,
        *,
        gateway: TeamsGateway | None = None,
        limiter: RateLimiter | None = None,
        answers: AnswerService | None = None,
        presence: PresenceService | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._service = service
        self._http = http
        self._settings = settings
        self._identities = Identities(sessions, settings.DEFAULT_LOCALE)
        self.actions = CardActions(service, sessions, settings, help_service, answers, presence)
        self.message_actions = MessageActions(service, sessions, settings, gateway, limiter)

    # ---- install / uninstall ----------------------------------------------------------------

    async def on_installation_update_add(self, context: TurnContext) -> None:
        """Greet the user with the welcome card and remember the conversation."""
        caller = await self._identities.resolve(context)
        locale = caller.locale if caller else locale_of(context.activity, self._default_locale)
        await context.send_activity(card_message(cards.welcome_card(locale)))

    async def on_installation_update_remove(self, context: TurnContext) -> None:
        """Stop writing to a conversation the app was removed from."""
        await self._identities.forget(context)

    async def on_conversation_update_activity(self, context: TurnContext) -> None:
        """Track the bot leaving or joining; the welcome comes with installationUpdate."""
        activity = context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        if any(member.id == bot_id for member in activity.members_removed or []):
            await self._identities.forget(context)
        elif activity.members_added:
            # Skip the SDK's per-member roster calls; all we need is the reference.
            await self._identities.resolve(context)

    # ---- messages -----------------------------------------------------------------------------

    async def on_message_activity(self, context: TurnContext) -> None:
        """Handle typed text and Action.Submit clicks (a message whose value holds the inputs)."""
        caller = await self._identities.resolve(context)
        if caller is None:
            locale = locale_of(context.activity, self._default_locale)
            await context.send_activity(text_message(t("bot.no_identity", locale)))
            return
        if context.activity.value is not None:
            await self._submit(context, caller)
            return
        files = incoming_files(context.activity.attachments, context.activity.service_url)
        if files and self._http is not None:
            reply = await self._send_files(context, caller, files)
            await context.send_activity(text_message(reply))
            return
        await self._text(context, caller, context.activity.text or "")

    async def _send_files(
        self, context: TurnContext, caller: Caller, files: list[IncomingFile]
    ) -> str:
        """Download the files (bounded, streamed) and send them with the text to the ticket."""
        locale = caller.locale
        # Files cannot wait for a "which ticket?" card: they go to a clear target or nowhere.
        ticket_id = (await self.actions.free_text_target(caller)).ticket_id
        if ticket_id is None:
            return t("bot.no_current", locale)
        assert self._http is not None
        policy = UploadPolicy(
            max_bytes=self._settings.ATTACHMENT_MAX_BYTES, types=self._settings.ATTACHMENT_TYPES
        )
        text = _plain(context.activity.text)
        with spooled(policy) as spool:
            try:
                token = await _bot_token(context) if any(f.needs_token for f in files) else None
                for file in files:
                    await download(self._http, file, spool, token)
            except UploadRefused as refused:
                return views.refused_text(refused, locale)
            except DownloadFailed:
                return t("bot.file.download_failed", locale)
            return await self._post(caller, ticket_id, text, spool.files, _key_of(context))

    def _help_card(self, locale: str) -> dict[str, Any]:
        return cards.help_card(
            locale,
            web_url=self._settings.base_url,
            microsoft=self._settings.microsoft_login_enabled,
        )

    async def _text(self, context: TurnContext, caller: Caller, text: str) -> None:
        locale = caller.locale
        query = search_query(text)
        if query is not None:
            await context.send_activity(card_message(await self.actions.help.search(caller, query)))
            return
        command = parse_command(text)
        if command is Command.NEW:
            await context.send_activity(card_message(self.actions.form(locale)))
        elif command is Command.LIST:
            await context.send_activity(card_message(await self.actions.history(caller)))
        elif command is Command.HELP:
            await context.send_activity(card_message(self._help_card(locale)))
        elif not text.strip():
            await self._no_current(context, locale)
        else:
            await self._free_text(context, caller, text)

    async def _no_current(self, context: TurnContext, locale: str) -> None:
        await context.send_activity(text_message(t("bot.no_current", locale)))
        await context.send_activity(card_message(self._help_card(locale)))

    async def _free_text(self, context: TurnContext, caller: Caller, text: str) -> None:
        """Send typed text to the ticket it is for; with several open, ask which one."""
        choice = await self.actions.free_text_target(caller)
        if choice.ticket_id is not None:
            await context.send_activity(
                text_message(await self._post(caller, choice.ticket_id, text, key=_key_of(context)))
            )
        elif choice.open_tickets:
            card = cards.choose_ticket_card(text, choice.open_tickets, caller.locale)
            await context.send_activity(card_message(card))
        else:
            await self._no_current(context, caller.locale)

    async def _post(
        self,
        caller: Caller,
        ticket_id: int,
        text: str,
        files: Sequence[Upload] = (),
        key: str | None = None,
    ) -> str:
        locale = caller.locale
        try:
            await self._service.post_message(
                caller.user_id,
                ticket_id,
                text,
                origin=Origin.TEAMS,
                files=files,
                idempotency_key=key,
            )
            info = await self._service.get_ticket(caller.user_id, ticket_id)
        except TicketNotFound:
            return t("bot.no_current", locale)
        except (FormInvalid, HelpdeskUnavailable, HelpdeskRejected) as failed:
            return views.failure_text(failed, locale)
        return t("bot.sent", locale, id=info.id, title=" ".join(info.title.split()))

    async def _submit(self, context: TurnContext, caller: Caller) -> None:
        activity = context.activity
        try:
            action = parse_action(activity.value if isinstance(activity.value, dict) else {})
        except InvalidAction as exc:
            log.info("ignored a card submit: %s", exc)
            await context.send_activity(text_message(t("bot.invalid_action", caller.locale)))
            return
        place = CardPlace(activity.conversation.id, activity.reply_to_id)
        result = await self.actions.run(caller, action, place)
        if activity.reply_to_id:
            replacement = card_message(result.card)
            replacement.id = activity.reply_to_id
            await context.update_activity(replacement)
        else:
            sent = await context.send_activity(card_message(result.card))
            await self._remember_new_card(caller, result, activity.conversation.id, sent)
        if result.notice:
            await context.send_activity(text_message(result.notice))

    async def _remember_new_card(
        self, caller: Caller, result: ActionResult, conversation_id: str, sent: Any
    ) -> None:
        if result.ticket_id is None or sent is None or not getattr(sent, "id", None):
            return
        place = CardPlace(conversation_id, sent.id)
        await self.actions.remember(caller, result.ticket_id, place)

    # ---- Action.Execute -------------------------------------------------------------------------

    async def on_invoke_activity(self, context: TurnContext) -> InvokeResponse:
        """Answer card actions and the message action; defer the rest to the SDK."""
        if context.activity.name in MESSAGE_ACTION_INVOKES:
            return await self.message_actions.handle(context)
        if context.activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(context)
        locale = locale_of(context.activity, self._default_locale)
        try:
            action = parse_action(context.activity.value or {})
        except InvalidAction as exc:
            log.info("refused a card action: %s", exc)
            return _invoke(
                HTTPStatus.BAD_REQUEST,
                ERROR_TYPE,
                {"code": "BadRequest", "message": t("bot.invalid_action", locale)},
            )
        try:
            caller = await self._identities.resolve(context)
            if caller is None:
                return _invoke(
                    HTTPStatus.UNAUTHORIZED,
                    ERROR_TYPE,
                    {"code": "Unauthorized", "message": t("bot.no_identity", locale)},
                )
            activity = context.activity
            place = CardPlace(activity.conversation.id, activity.reply_to_id)
            result = await self.actions.run(caller, action, place)
            if result.notice:
                await context.send_activity(text_message(result.notice))
        except Exception:
            # The clicked card turns into the error card: the user sees the id to quote.
            error_id = _error_id()
            log.exception("card action %s failed [%s]", action.verb, error_id)
            card = cards.error_card(t("bot.error", locale), error_id, locale)
            return _invoke(HTTPStatus.OK, CARD_TYPE, card)
        return _invoke(HTTPStatus.OK, CARD_TYPE, result.card)

    # ---- the error boundary -------------------------------------------------------------------

    async def on_error(self, context: TurnContext, error: Exception) -> None:
        """Log a failed turn with an error id and tell the user in one sentence with that id."""
        error_id = _error_id()
        log.error("bot turn failed [%s]: %s", error_id, type(error).__name__, exc_info=error)
        locale = locale_of(context.activity, self._default_locale)
        card = cards.error_card(t("bot.error", locale), error_id, locale)
        try:
            await context.send_activity(card_message(card))
        except Exception as exc:  # nothing more we can do for this turn
            log.warning("could not report error %s to the user: %s", error_id, type(exc).__name__)

    @property
    def _default_locale(self) -> str:
        return self._settings.DEFAULT_LOCALE


def _invoke(status: HTTPStatus, kind: str, value: Any) -> InvokeResponse:
    """Build an invoke response whose body is a plain dict (never an msrest model)."""
    body = {"statusCode": int(status), "type": kind, "value": value}
    return InvokeResponse(status=int(status), body=body)


async def _bot_token(context: TurnContext) -> str | None:
    """Return the bot's token for this turn's connector (inline pictures need it)."""
    client = context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
    credentials = getattr(getattr(client, "config", None), "credentials", None)
    if credentials is None or not hasattr(credentials, "get_access_token"):
        return None
    try:
        token = credentials.get_access_token()
    except Exception:  # no bot identity (local playground): the file host needs none
        log.info("no bot token for a file download", exc_info=True)
        return None
    return str(token) if token else None


def _plain(text: str | None) -> str:
    """Return the typed words of a message that carried files (Teams may send none)."""
    return (text or "").strip()


def _error_id() -> str:
    return uuid.uuid4().hex[:12]


def _key_of(context: TurnContext) -> str | None:
    """Return the message's idempotency key: Teams redelivers an activity under the same id."""
    activity_id = context.activity.id
    return f"teams-activity:{activity_id}" if activity_id else None
