"""Fill the ticket form from a Teams message: title, description with its origin, beneficiary."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bot.source_message import SourceMessage
from cards.elements import one_line
from i18n import format_datetime, t
from tickets.forms import DESCRIPTION_MAX, TITLE_MAX


@dataclass(frozen=True, slots=True)
class Prefill:
    """The form's starting values and a sentence to show above them, if any."""

    values: dict[str, str]
    notice: str | None = None


def prefill(
    source: SourceMessage, clicker_oid: str, locale: str, *, author_email: str | None = None
) -> Prefill:
    """Prefill the form from ``source`` for the user ``clicker_oid``, in ``locale``."""
    footer = source_line(source, locale)
    if source.link:
        footer += "\n" + t("bot.ext.link", locale, url=source.link)
    body, notice = source.text, None
    # The description holds the message, a blank line and the footer, within the form's limit.
    budget = DESCRIPTION_MAX - len(footer) - 2
    if not body:
        notice = t("bot.ext.notice.empty", locale)
    elif len(body) > budget:
        marker = t("bot.ext.cut", locale)
        body = body[: budget - len(marker) - 1].rstrip() + "\n" + marker
        notice = t("bot.ext.notice.long", locale)
    values = {
        "title": first_line(source.text),
        "description": f"{body}\n\n{footer}" if body else footer,
        "for_other": "false",
    }
    if source.author_oid and source.author_oid != clicker_oid and source.author_name:
        # Someone else's problem, most likely: the ticket is for them unless the user says no.
        values["for_other"] = "true"
        values["beneficiary_name"] = source.author_name
        if author_email:
            values["beneficiary_email"] = author_email
    return Prefill(values, notice)


def first_line(text: str) -> str:
    """Return the first non-blank line, cut to the title limit."""
    for line in text.splitlines():
        if line.strip():
            return one_line(line, TITLE_MAX)
    return ""


def source_line(source: SourceMessage, locale: str) -> str:
    """Say where the text came from: author, chat or channel, and when."""
    author = source.author_name or t("bot.ext.author.unknown", locale)
    place = source.place
    if place.kind == "personal":
        where = t("bot.ext.place.personal", locale)
    elif place.name:
        where = t(f"bot.ext.place.{place.kind}", locale, name=place.name)
    else:
        where = t(f"bot.ext.place.{place.kind}.unnamed", locale)
    if source.created_at is None:
        return t("bot.ext.source.undated", locale, author=author, place=where)
    date = format_datetime(source.created_at, locale)
    return t("bot.ext.source", locale, author=author, place=where, date=date)


def message_form_id(tenant: str, conversation_id: str, message_id: str) -> str:
    """Derive the form id of a message, so every dialog opened on it is the same form."""
    # A channel thread's conversation id carries ";messageid=…"; the channel is the part before.
    channel = conversation_id.split(";", 1)[0]
    digest = hashlib.sha256(f"{tenant}\n{channel}\n{message_id}".encode()).hexdigest()
    return f"msg-{digest[:40]}"
