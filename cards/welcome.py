"""Welcome and help cards: what the bot does and the ways in."""

from __future__ import annotations

from cards.actions import ActionData, Verb
from cards.elements import Json, card, execute, text
from cards.text import HELP_COMMANDS
from i18n import DEFAULT_LOCALE, normalize_locale, t


def _entry_actions(locale: str | None) -> list[Json]:
    return [
        execute(t("card.action.new", locale), ActionData(Verb.NEW), style="positive"),
        execute(t("card.action.list", locale), ActionData(Verb.LIST, page=1)),
    ]


def welcome_card(locale: str | None) -> Json:
    """Build the card sent when the bot is installed or greeted."""
    body = [
        text(t("app.name", locale), size="Small", weight="Bolder", color="Accent"),
        text(t("card.welcome.title", locale), size="Large", weight="Bolder", spacing="None"),
        text(t("card.welcome.body", locale), spacing="Small"),
    ]
    return card(body, _entry_actions(locale), locale)


def help_card(locale: str | None, *, web_url: str = "", microsoft: bool = False) -> Json:
    """Build the card listing the commands, with the web page's address and how to get in."""
    commands = HELP_COMMANDS[normalize_locale(locale, DEFAULT_LOCALE)]
    body = [
        text(t("card.help.title", locale), size="Large", weight="Bolder"),
        text(t("card.help.body", locale), spacing="Small"),
        {
            "type": "FactSet",
            "facts": [{"title": word, "value": t(key, locale)} for word, key in commands],
        },
    ]
    actions = _entry_actions(locale)
    if web_url:
        way_in = "card.help.web.microsoft" if microsoft else "card.help.web.signup"
        body.append(text(t("card.help.web", locale, url=web_url), size="Small", spacing="Medium"))
        body.append(text(t(way_in, locale), isSubtle=True, size="Small", spacing="Small"))
        actions.append(
            {"type": "Action.OpenUrl", "title": t("card.help.web.open", locale), "url": web_url}
        )
    else:
        body.append(text(t("card.help.footer", locale), isSubtle=True, size="Small"))
    return card(body, actions, locale)
