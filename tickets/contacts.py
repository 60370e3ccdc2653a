"""The employee's contact in Chatwoot: its deterministic identity, creation and refresh."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatwoot.attributes import contact_attributes
from chatwoot.client import ChatwootClient
from chatwoot.errors import ChatwootRejected, ChatwootUnavailable
from db import accounts, repo
from db.models import ChatwootContactLink, User
from tickets.errors import TicketNotFound, helpdesk_call

log = logging.getLogger(__name__)


class Contacts:
    """Find or create each user's Chatwoot contact in one inbox, and keep its fields current."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        chatwoot: ChatwootClient,
        *,
        inbox: str,
        secret: str,
    ) -> None:
        self._sessions = sessions
        self._chatwoot = chatwoot
        self._inbox = inbox
        self._secret = secret.encode()

    def source_id_for(self, user_id: int) -> str:
        """Derive the user's deterministic contact source_id, so contact creation is idempotent."""
        digest = hmac.new(self._secret, f"contact:{user_id}".encode(), hashlib.sha256)
        return f"tft-{user_id}-{digest.hexdigest()[:12]}"

    async def ensure_contact(self, user_id: int) -> ChatwootContactLink:
        """Return the user's contact link, creating the Chatwoot contact the first time."""
        async with self._sessions() as session:
            link = await repo.get_contact_link(session, user_id, self._inbox)
            user = await accounts.get_user(session, user_id)
        if link is not None:
            return link
        if user is None:
            raise TicketNotFound("unknown user")
        contact = await helpdesk_call(
            self._chatwoot.create_contact(
                source_id=self.source_id_for(user_id),
                name=user.display_name or (user.email or f"user {user_id}"),
                custom_attributes=_contact_attributes(user) or None,
            )
        )
        async with self._sessions.begin() as session:
            return await repo.add_contact_link(
                session,
                user_id=user_id,
                inbox=self._inbox,
                source_id=contact.source_id,
                pubsub_token=contact.pubsub_token,
                contact_id=contact.id,
            )

    async def refresh_contact(self, user_id: int) -> None:
        """Tell agents the user's current name and address state (the contact), best effort."""
        async with self._sessions() as session:
            link = await repo.get_contact_link(session, user_id, self._inbox)
            user = await accounts.get_user(session, user_id)
        if link is None or user is None:
            return  # the contact is created later, with the current name and attributes
        fields: dict[str, Any] = {"name": name_of(user)}
        if user.email:
            fields["custom_attributes"] = _contact_attributes(user)
        try:
            await self._chatwoot.update_contact(link.source_id, **fields)
        except (ChatwootUnavailable, ChatwootRejected) as exc:
            log.warning("could not update user %s's contact in Chatwoot: %s", user_id, exc)


def name_of(user: User) -> str:
    """Return the name agents see for the user: display name, else e-mail, else the id."""
    return user.display_name or user.email or f"#{user.id}"


def _contact_attributes(user: User) -> dict[str, str | bool]:
    verified = user.email_verified_at is not None or user.email_verified_by_entra
    return contact_attributes(
        user.email, verified=verified, verified_by_entra=user.email_verified_by_entra
    )
