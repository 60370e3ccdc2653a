"""The audit of files: each counted like a message, by the F token in its name."""

from __future__ import annotations

from tests.soak.employees import TeamsEmployee, WebEmployee
from tests.soak.table import Audit, Row
from tests.soak.truth import Scene, teams_sends

FILE_ROWS = (
    "agent files → web API",
    "agent files → Teams",
    "employee files → Chatwoot (web)",
)


def check(scene: Scene, audit: Audit, crash_window: float) -> None:
    """Agent files once in the owner's web timeline or Teams chat; employee files once in Chatwoot.

    A Teams file posted twice within ``crash_window`` before a crash is explained, like replies.
    """
    rows = {name: Row() for name in FILE_ROWS}
    audit.rows.update(rows)
    truth, ledger = scene.truth, scene.ctx.ledger
    explained = 0
    for token, cid in sorted(truth.file_public.items()):
        owner = scene.by_key.get(truth.owner_of_conversation.get(cid, ""))
        ticket_id = scene.ticket_of_conversation.get(cid)
        if owner is None or ticket_id is None or ticket_id not in owner.ticket_ids:
            continue  # an orphan conversation nobody was shown
        where = f"file {token} (conversation {cid}) of {owner.key}"
        if isinstance(owner, WebEmployee):
            count = scene.api_files[owner.key][token]
            _count(audit, rows[FILE_ROWS[0]], count, f"{where} on the web API")
            continue
        assert isinstance(owner, TeamsEmployee)
        times = sorted(teams_sends(owner, "F").get(token, []))
        if len(times) > 1 and ledger.in_crash_window(token, times[0], crash_window):
            explained += len(times) - 1
            times = times[:1]
        if len(times) > 1:
            where += f" ({ledger.placed(times)})"
        _count(audit, rows[FILE_ROWS[1]], len(times), f"{where} in Teams")
    rows[FILE_ROWS[1]].note = f"+{explained} in the send/commit crash window"
    for token, carrier in sorted(ledger.files.items()):
        message = ledger.messages.get(carrier)
        if message is None:
            continue  # an agent's file, counted above
        arrived = truth.file_incoming[token]
        if not message.confirmed and arrived == 0 and truth.incoming[carrier] == 0:
            continue  # never confirmed and nothing arrived: the user saw it was not sent
        where = f"file {token} of {message.owner} (message {carrier}) in Chatwoot"
        _count(audit, rows[FILE_ROWS[2]], arrived, where)
    rows[FILE_ROWS[2]].note = "incl. unconfirmed that arrived"


def _count(audit: Audit, row: Row, count: int, where: str) -> None:
    row.sent += 1
    row.received += min(count, 1)
    if count == 0:
        row.lost += 1
        audit.fail(f"{where}: missing")
    elif count > 1:
        row.duplicates += 1
        audit.fail(f"{where}: {count}x")
