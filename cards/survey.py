"""The satisfaction survey card: five rating buttons and a comment, then "Obrigado!" in place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from cards.actions import ActionData, Verb
from cards.elements import Json, card, execute, one_line, rich, text
from i18n import t

MAX_FEEDBACK: Final = 2000


@dataclass(frozen=True, slots=True)
class SurveyView:
    """A ticket's survey: its answer so far (``rating`` None until rated) and whether it is shut."""

    ticket_id: int
    message_id: int
    title: str
    rating: int | None = None
    feedback: str | None = None
    closed: bool = False


def _stars(rating: int) -> str:
    return "★" * rating + "☆" * (5 - rating)


def _buttons(view: SurveyView, locale: str | None) -> list[Json]:
    """Return one ``ticket.rate`` button per score (the comment box goes along with each)."""
    return [
        execute(
            f"{score} · {t(f'ticket.survey.{score}', locale)}",
            ActionData(
                Verb.RATE,
                ticket_id=view.ticket_id,
                message_id=view.message_id,
                inputs={"rating": str(score)},
            ),
            style="positive" if score == view.rating else None,
            tooltip=t("ticket.survey.score", locale, rating=score),
        )
        for score in range(1, 6)
    ]


def _feedback_input(view: SurveyView, locale: str | None) -> Json:
    return {
        "type": "Input.Text",
        "id": "feedback",
        "label": t("ticket.survey.feedback", locale),
        "isMultiline": True,
        "maxLength": MAX_FEEDBACK,
        "value": view.feedback or "",
    }


def survey_card(view: SurveyView, locale: str | None) -> Json:
    """Build the survey card: open (buttons), answered ("Obrigado!" + rating) or closed."""
    body: list[Json] = [
        text(t("card.survey.title", locale), size="Small", isSubtle=True),
        rich(one_line(view.title, 120), spacing="None", weight="Bolder"),
    ]
    actions: list[Json] = []
    if view.rating is not None:
        body.append(text(t("card.survey.thanks", locale), size="Large", weight="Bolder"))
        body.append(
            text(
                f"{_stars(view.rating)}  {t('ticket.survey.score', locale, rating=view.rating)}",
                spacing="None",
                color="Good",
            )
        )
        if view.feedback:
            body.append(rich(f"“{view.feedback}”", isSubtle=True, italic=True))
    else:
        body.append(text(t("ticket.survey.prompt", locale)))
    if view.closed:
        body.append(text(t("card.survey.closed", locale), isSubtle=True, size="Small"))
        view_ticket = ActionData(Verb.OPEN, ticket_id=view.ticket_id)
        return card(
            body, [execute(t("card.action.view", locale), view_ticket, inputs=False)], locale
        )
    if view.rating is None:
        body.append(_feedback_input(view, locale))
        body.append({"type": "ActionSet", "actions": _buttons(view, locale)})
        return card(body, actions, locale)
    # Rated: a second answer updates it, behind one "change" button.
    change: Json = {
        "type": "Action.ShowCard",
        "title": t("ticket.survey.change", locale),
        "card": {
            "type": "AdaptiveCard",
            "body": [
                _feedback_input(view, locale),
                {"type": "ActionSet", "actions": _buttons(view, locale)},
            ],
        },
    }
    return card(body, [change], locale)
