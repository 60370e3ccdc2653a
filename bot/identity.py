"""Who is talking: the Teams user as one of our users, and where the bot can reach them again."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import accounts
from db import teams as teams_repo
from db.models import ReferenceState, TeamsConversationRef, User
from i18n import DEFAULT_LOCALE, Locale, normalize_locale
from tickets.users import find_or_create_entra_user

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caller:
    """The user behind a turn."""

    user_id: int
    locale: Locale
    name: str
    current_ticket_id: int | None
    # When the current ticket was last chosen (opened, answered, picked): free text follows
    # it only while that is recent.
    current_ticket_at: datetime | None = None


def tenant_of(activity: Activity) -> str:
    """Return the activity's tenant id (conversation first, then channelData)."""
    conversation = activity.conversation
    if conversation is not None and conversation.tenant_id:
        return str(conversation.tenant_id)
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant")
    return str(tenant.get("id") or "") if isinstance(tenant, dict) else ""


def _trusted_oid(activity: Activity) -> str | None:
    """Return the caller's AAD object id when this turn's identity can be trusted, else None."""
    sender = activity.from_property
    oid = getattr(sender, "aad_object_id", None) if sender is not None else None
    if not oid or activity.conversation is None or not activity.conversation.id:
        return None
    # Identity claims are only trusted from Teams itself, and only in a 1:1 chat: another
    # channel (Web Chat, Direct Line) lets the client write `from`, and a group chat would
    # make agent replies land in front of other people.
    if activity.channel_id != "msteams":
        return None
    # Teams always names the type; an activity without one is not known to be a 1:1 chat.
    if activity.conversation.conversation_type != "personal":
        return None
    return str(oid)


def locale_of(activity: Activity, default: str) -> Locale:
    """Return the supported locale closest to the activity's."""
    return normalize_locale(activity.locale or default, DEFAULT_LOCALE)


class Identities:
    """Resolve callers and keep their conversation references fresh."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], default_locale: str) -> None:
        self._sessions = sessions
        self._default_locale = default_locale

    async def resolve(self, context: TurnContext) -> Caller | None:
        """Find or create the user of this turn and store the conversation reference.

        Returns None when Teams did not say who the user is (no AAD object id).
        """
        activity = context.activity
        oid = _trusted_oid(activity)
        sender = activity.from_property
        if oid is None or sender is None or activity.conversation is None:
            return None
        tenant = tenant_of(activity)
        locale = locale_of(activity, self._default_locale)
        name = (sender.name or "").strip() or None
        reference: dict[str, Any] = TurnContext.get_conversation_reference(activity).serialize()
        async with self._sessions() as session:
            known = await accounts.user_by_entra(session, oid, tenant)
            stored = (
                await teams_repo.reference_by_conversation(session, activity.conversation.id)
                if known is not None
                else None
            )
        if known is not None and stored is not None:
            fresh = _unchanged(known, stored, tenant=tenant, name=name, locale=locale)
            if fresh and _same_place(stored.reference, reference):
                # Most turns: nothing to write, so no write transaction at all.
                return Caller(
                    known.id,
                    locale,
                    known.display_name,
                    known.current_ticket_id,
                    known.current_ticket_at,
                )
        # The roster lookup costs a call to Teams, so only the first time we see someone.
        email = None if known is not None else await _roster_email(context, sender.id)
        async with self._sessions.begin() as session:
            user = await find_or_create_entra_user(
                session, oid=oid, tid=tenant, name=name, email=email, locale=locale
            )
            await accounts.set_locale(session, user.id, locale)
            await teams_repo.save_reference(
                session,
                user_id=user.id,
                tenant_id=tenant,
                conversation_id=activity.conversation.id,
                service_url=activity.service_url or "",
                reference=reference,
            )
            return Caller(
                user.id,
                locale,
                user.display_name,
                user.current_ticket_id,
                user.current_ticket_at,
            )

    async def forget(self, context: TurnContext) -> None:
        """Mark the conversation uninstalled: the outbox stops writing there."""
        conversation = context.activity.conversation
        if conversation is None or not conversation.id:
            return
        async with self._sessions.begin() as session:
            known = await teams_repo.mark_reference(
                session, conversation.id, ReferenceState.UNINSTALLED
            )
        log.info("bot removed from a conversation (known: %s)", known)


def _unchanged(
    user: User, stored: TeamsConversationRef, *, tenant: str, name: str | None, locale: str
) -> bool:
    """Tell whether the user and their chat are stored as this turn would store them."""
    renamed = bool(name) and user.display_name != name and user.name_chosen_at is None
    return (
        not renamed
        and user.locale == locale
        and stored.user_id == user.id
        and stored.tenant_id == tenant
        and stored.state == ReferenceState.ACTIVE
    )


def _same_place(stored: Mapping[str, Any], reference: Mapping[str, Any]) -> bool:
    """Compare two references but for the activity they were taken from (every turn's own)."""

    def place(value: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in value.items() if k != "activityId"}

    return place(stored) == place(reference)


async def _roster_email(context: TurnContext, member_id: str | None) -> str | None:
    if not member_id:
        return None
    try:
        member = await TeamsInfo.get_member(context, member_id)
    except Exception as exc:  # the e-mail is a nicety; never fail a turn for it
        log.info("roster lookup failed: %s", type(exc).__name__)
        return None
    email = getattr(member, "email", None) or getattr(member, "user_principal_name", None)
    return str(email) if email and "@" in str(email) else None
