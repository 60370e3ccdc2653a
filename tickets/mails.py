"""Account e-mails: pick the strings for a locale and render the plain-text and HTML parts."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

import jinja2

import i18n

TEMPLATES = Path(__file__).resolve().parent / "mail_templates"


class MailKind(enum.StrEnum):
    """The e-mails an account receives."""

    VERIFY = "verify"
    RESET = "reset"
    SIGNUP_ATTEMPT = "attempt"


@dataclass(frozen=True)
class Mail:
    """A rendered e-mail, ready for the outbox."""

    subject: str
    text: str
    html: str


class MailRenderer:
    """Render account e-mails from the Jinja2 templates (HTML autoescaped, text not)."""

    def __init__(self) -> None:
        # HTML parts are autoescaped; the plain-text part is not HTML, so escaping would show
        # "&amp;" to the reader.
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
        )

    def render(self, kind: MailKind, locale: str, *, link: str) -> Mail:
        """Render one e-mail in the reader's language.

        No text the sign-up form took (such as the name) goes in: whoever types someone
        else's address must not be able to write to that person through us.
        """
        app = i18n.t("app.name", locale)

        def tr(key: str) -> str:
            return i18n.t(key, locale, app=app)

        context = {
            "t": tr,
            "kind": kind.value,
            "locale": locale,
            "link": link,
            "app": app,
            "subject": tr(f"mail.{kind.value}.subject"),
        }
        return Mail(
            subject=str(context["subject"]),
            text=self._env.get_template("mail.txt").render(context),
            html=self._env.get_template("mail.html").render(context),
        )
