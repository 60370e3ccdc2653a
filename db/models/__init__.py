"""The SQLAlchemy 2 models, one module per table home; every name importable from here."""

from db.models.accounts import (
    AccountToken,
    RateHit,
    User,
    WebSession,
)
from db.models.base import TIMELINE, Base
from db.models.help import (
    HelpOutcome,
    HelpOutcomeKind,
)
from db.models.mail import (
    MailItem,
    MailState,
)
from db.models.teams import (
    OutboxItem,
    OutboxState,
    OutboxWorker,
    ReferenceState,
    TeamsConversationRef,
    TeamsSend,
    Throttle,
)
from db.models.tickets import (
    ChatwootContactLink,
    Direction,
    HelpdeskBinding,
    Message,
    Origin,
    ParkedEvent,
    SendClaim,
    Ticket,
    TicketEvent,
    TicketStatus,
    WebhookReceipt,
)

__all__ = [
    "TIMELINE",
    "AccountToken",
    "Base",
    "ChatwootContactLink",
    "Direction",
    "HelpOutcome",
    "HelpOutcomeKind",
    "HelpdeskBinding",
    "MailItem",
    "MailState",
    "Message",
    "Origin",
    "OutboxItem",
    "OutboxState",
    "OutboxWorker",
    "ParkedEvent",
    "RateHit",
    "ReferenceState",
    "SendClaim",
    "TeamsConversationRef",
    "TeamsSend",
    "Throttle",
    "Ticket",
    "TicketEvent",
    "TicketStatus",
    "User",
    "WebSession",
    "WebhookReceipt",
]
