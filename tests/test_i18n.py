"""The one i18n contract: locales, dates, statuses and the merged catalog."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

import i18n
from i18n import bot, cards, common, files, mail, pages, profile


def test_dates_follow_locale_and_timezone() -> None:
    moment = datetime(2025, 3, 5, 17, 7, tzinfo=UTC)
    assert i18n.format_datetime(moment, "pt-BR") == "05/03/2025 17:07"
    assert i18n.format_datetime(moment, "en") == "Mar 5, 2025 5:07 PM"
    assert i18n.format_datetime(moment, "en-US", ZoneInfo("America/Sao_Paulo")) == (
        "Mar 5, 2025 2:07 PM"
    )
    assert i18n.format_datetime(moment.replace(hour=0), "en") == "Mar 5, 2025 12:07 AM"
    assert i18n.format_datetime(moment.replace(hour=12), "en") == "Mar 5, 2025 12:07 PM"
    with pytest.raises(ValueError, match="timezone-aware"):
        i18n.format_datetime(datetime(2025, 3, 5, 17, 7), "pt-BR")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("en", "en"),
        ("en-GB", "en"),
        ("EN_us", "en"),
        ("pt-BR", "pt-BR"),
        ("pt", "pt-BR"),
        ("pt_br", "pt-BR"),
        ("fr-FR", None),
        (None, None),
        ("", None),
    ],
)
def test_locale_normalisation(given: str | None, expected: str | None) -> None:
    assert i18n.normalize_locale(given) == expected
    assert i18n.normalize_locale(given, i18n.DEFAULT_LOCALE) == (expected or "pt-BR")


def test_accept_language_picks_the_best_supported_locale() -> None:
    assert i18n.negotiate("fr-FR, en;q=0.8, pt;q=0.5") == "en"
    assert i18n.negotiate("en;q=0, pt-BR;q=0.1") == "pt-BR"
    assert i18n.negotiate("de, fr", "en") == "en"
    assert i18n.negotiate(None) == "pt-BR"
    assert i18n.choose_locale("en", "pt-BR") == "en"
    assert i18n.choose_locale(None, "pt-BR,en;q=0.5", "en") == "pt-BR"
    assert i18n.choose_locale("xx", None, "en") == "en"


def test_one_status_table_for_every_surface() -> None:
    assert i18n.status_label("pending", "pt-BR") == "Pendente"
    assert i18n.status_label("resolved", "en-US") == "Resolved"
    assert i18n.status_label("mystery", "en") == "mystery"


def test_lookup_falls_back_to_pt_br_then_to_the_key() -> None:
    assert i18n.t("bot.sent", "fr", id=7, title="VPN") == "✉️ Mensagem enviada no chamado #7 “VPN”."
    assert i18n.t("bot.sent", "en", id=7, title="VPN") == "✉️ Message sent to ticket #7 “VPN”."
    assert i18n.t("no.such.key", "en") == "no.such.key"


@pytest.mark.parametrize(
    "area", [common, pages, cards, bot, mail, files, profile], ids=lambda m: m.__name__
)
def test_every_string_exists_in_both_locales(area: object) -> None:
    portuguese, english = area.PT, area.EN  # type: ignore[attr-defined]
    assert set(portuguese) == set(english)
    assert all(value.strip() for value in (*portuguese.values(), *english.values()))


def test_surfaces_keep_to_their_namespaces() -> None:
    assert all(key.startswith("card.") for key in cards.PT)
    assert all(key.startswith("bot.") for key in bot.PT)
    assert all(key.startswith("mail.") for key in mail.PT)
    assert not any(key.startswith(("card.", "bot.", "mail.")) for key in (*common.PT, *pages.PT))


def test_page_scripts_get_only_page_strings() -> None:
    strings = i18n.client_catalog("en")
    assert strings["status.pending"] == "Pending"
    assert strings["event.assigned"] == "{assignee} took the ticket"
    assert not any(key.startswith("card.") for key in strings)
