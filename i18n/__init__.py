"""One i18n contract for every surface: ``t(key, locale)``, locales, statuses and dates.

This is the lowest room of the code base: it imports nothing of ours and every other room may
import it (web pages, Adaptive Cards, the bot, the core). Strings and locale rules are plain data
shared by all three surfaces; keeping them here, below `cards/`, lets the card builders stay pure
(data in, card out) without either a second catalog or a translated copy of every view, and it
cannot close an import loop because it depends on nothing.

Keys are namespaced by surface: ``card.*`` for the cards, ``bot.*`` for the bot's sentences, and
unprefixed keys for the web pages and the words every surface shares (``status.*``, form labels).
"""

from i18n.catalog import client_catalog, event_line, has_key, status_label, t
from i18n.dates import format_datetime
from i18n.locales import (
    DEFAULT_LOCALE,
    LOCALES,
    Locale,
    choose_locale,
    negotiate,
    normalize_locale,
)

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "Locale",
    "choose_locale",
    "client_catalog",
    "event_line",
    "format_datetime",
    "has_key",
    "negotiate",
    "normalize_locale",
    "status_label",
    "t",
]
