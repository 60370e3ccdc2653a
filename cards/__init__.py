"""Adaptive Card builders: pure functions from view data to card dicts (schema 1.5)."""

from cards.actions import INPUT_IDS, ActionData, InvalidAction, Verb, parse_action
from cards.choose import MAX_CHOICES, choose_ticket_card
from cards.elements import MAX_CARD_BYTES, card_size
from cards.extension import message_ticket_card
from cards.form import ticket_form_card
from cards.help import (
    SuggestedArticle,
    SuggestionsView,
    no_articles_card,
    solved_card,
    suggestions_card,
)
from cards.history import history_card
from cards.notices import error_card
from cards.question import Field, Option, QuestionView, RichItem, question_card
from cards.survey import SurveyView, survey_card
from cards.text import assignment_line, created_line, status_line
from cards.ticket import agent_reply_card, ticket_card, ticket_summary_card
from cards.views import (
    CardFile,
    CardMessage,
    ChoiceLabels,
    FormView,
    HistoryView,
    ReplyView,
    Span,
    TicketSummary,
    TicketView,
)
from cards.welcome import help_card, welcome_card

__all__ = [
    "INPUT_IDS",
    "MAX_CARD_BYTES",
    "MAX_CHOICES",
    "ActionData",
    "CardFile",
    "CardMessage",
    "ChoiceLabels",
    "Field",
    "FormView",
    "HistoryView",
    "InvalidAction",
    "Option",
    "QuestionView",
    "ReplyView",
    "RichItem",
    "Span",
    "SuggestedArticle",
    "SuggestionsView",
    "SurveyView",
    "TicketSummary",
    "TicketView",
    "Verb",
    "agent_reply_card",
    "assignment_line",
    "card_size",
    "choose_ticket_card",
    "created_line",
    "error_card",
    "help_card",
    "history_card",
    "message_ticket_card",
    "no_articles_card",
    "parse_action",
    "question_card",
    "solved_card",
    "status_line",
    "suggestions_card",
    "survey_card",
    "ticket_card",
    "ticket_form_card",
    "ticket_summary_card",
    "welcome_card",
]
