"""The supported locales and how a language tag or an Accept-Language header maps onto one."""

from __future__ import annotations

from typing import Final, Literal, overload

Locale = Literal["pt-BR", "en"]
LOCALES: Final[tuple[Locale, ...]] = ("pt-BR", "en")
DEFAULT_LOCALE: Final[Locale] = "pt-BR"


@overload
def normalize_locale(value: str | None) -> Locale | None: ...


@overload
def normalize_locale(value: str | None, default: Locale) -> Locale: ...


def normalize_locale(value: str | None, default: Locale | None = None) -> Locale | None:
    """Map a language tag (``pt``, ``pt_br``, ``en-US``…) to a supported locale, else `default`."""
    if value:
        primary = value.strip().lower().replace("_", "-").split("-")[0]
        if primary == "pt":
            return "pt-BR"
        if primary == "en":
            return "en"
    return default


def negotiate(accept_language: str | None, default: Locale = DEFAULT_LOCALE) -> Locale:
    """Pick the best supported locale of an Accept-Language header, else `default`."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, Locale]] = []
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                weight = 0.0
        locale = normalize_locale(tag)
        if locale is not None and weight > 0:
            ranked.append((-weight, position, locale))
    return min(ranked)[2] if ranked else default


def choose_locale(
    user_locale: str | None, accept_language: str | None, default: str = DEFAULT_LOCALE
) -> Locale:
    """Use the user's setting, else the browser's Accept-Language, else the default."""
    fallback = normalize_locale(default, DEFAULT_LOCALE)
    return normalize_locale(user_locale) or negotiate(accept_language, fallback)
