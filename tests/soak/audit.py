"""The audit: the sandbox's record of truth against what every employee was shown.

Delivery checks live here (replies, employee messages, tickets: once each, nothing lost);
safety checks (leaks, private notes, final state, bad input) in `tests.soak.audit_safety`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from tests.fakes.connector import Breach
from tests.soak import audit_files, audit_safety
from tests.soak.employees import TeamsEmployee, WebEmployee
from tests.soak.ledger import Context, tokens_in
from tests.soak.stack import Stack
from tests.soak.table import Audit, Row
from tests.soak.truth import Scene, look, teams_sends

# A Teams send landing this long before a SIGKILL / dropped connection may miss its commit (and
# one landing while a killed service is down was on the wire when it died).
CRASH_WINDOW = 5.0
REPLY_ROWS = (
    "agent replies → web page",
    "agent replies → web API",
    "agent replies → web /ws",
    "agent replies → Teams",
)


async def run_audit(
    ctx: Context, stack: Stack, web: list[WebEmployee], teams: list[TeamsEmployee]
) -> Audit:
    """Compare the record of truth with every observation; fill the table."""
    scene = await look(ctx, stack, web, teams)
    audit = Audit()
    check_replies(scene, audit)
    ambiguous = check_employee_messages(scene, audit)
    orphans = check_tickets(scene, audit)
    audit_files.check(scene, audit, CRASH_WINDOW)
    audit_safety.check(scene, audit)
    audit.diagnose(scene.truth)
    ledger = ctx.ledger
    if ledger.ws_repeats:
        audit.fail(f"/ws repeated items: {dict(ledger.ws_repeats)}")
    audit.lines += [
        f"unconfirmed messages that did arrive once: {ambiguous}",
        f"unconfirmed tickets left as Chatwoot orphans (never retried): {orphans}",
        f"/ws repeated items: {sum(ledger.ws_repeats.values())}",
        f"outbox rows: {scene.truth.outbox}",
        f"Teams limit breaches seen by the fake connector: {len(stack.connector.breaches)}",
    ]
    check_limits(stack.connector.breaches, audit)
    return audit


def check_limits(breaches: Sequence[Breach], audit: Audit) -> None:
    """Fail on any request the fake connector counted over a Teams limit, by scope and window."""
    if not breaches:
        return
    windows = Counter(f"{breach.scope} {breach.limit}/{breach.window:g} s" for breach in breaches)
    counts = ", ".join(f"{window}: {count}" for window, count in sorted(windows.items()))
    audit.fail(f"{len(breaches)} Teams limit breaches ({counts})")


def check_replies(scene: Scene, audit: Audit) -> None:
    """Agent replies: once on the web page, the API and /ws, once in Teams."""
    truth, ledger = scene.truth, scene.ctx.ledger
    for name in REPLY_ROWS:
        audit.rows[name] = Row()
    for token, cid in sorted(truth.public.items()):
        owner = scene.by_key.get(truth.owner_of_conversation.get(cid, ""))
        ticket_id = scene.ticket_of_conversation.get(cid)
        if owner is None or ticket_id is None or ticket_id not in owner.ticket_ids:
            # An unconfirmed ticket (orphan) nobody was shown: nothing to deliver to.
            continue
        if isinstance(owner, WebEmployee):
            for name, count in (
                ("agent replies → web page", scene.page_counts[owner.key][token]),
                ("agent replies → web API", scene.api_counts[owner.key][token]),
                ("agent replies → web /ws", ledger.ws_items(owner.key, ticket_id)[token]),
            ):
                _once(audit, audit.rows[name], count, (token, cid), f"{name} of {owner.key}")
        else:
            assert isinstance(owner, TeamsEmployee)
            _once_in_teams(scene, audit, owner, token, cid)
    audit.rows[REPLY_ROWS[-1]].note = f"+{audit.explained} in the send/commit crash window"


def _once(audit: Audit, row: Row, count: int, reply: tuple[str, int], where: str) -> None:
    token, cid = reply
    row.sent += 1
    row.received += min(count, 1)
    if count == 0:
        row.lost += 1
        audit.fail(f"{token} (conversation {cid}) missing on {where}")
    elif count > 1:
        row.duplicates += 1
        audit.fail(f"{token} shown {count}x on {where}")


def _once_in_teams(scene: Scene, audit: Audit, owner: TeamsEmployee, token: str, cid: int) -> None:
    row = audit.rows[REPLY_ROWS[-1]]
    row.sent += 1
    times = sorted(teams_sends(owner).get(token, []))
    row.received += min(len(times), 1)
    if not times:
        row.lost += 1
        audit.fail(f"{token} (conversation {cid}) never posted to {owner.key} in Teams")
    elif len(times) > 1:
        first = times[0]
        if scene.ctx.ledger.in_crash_window(token, first, CRASH_WINDOW):
            audit.explained += len(times) - 1
        else:
            row.duplicates += len(times) - 1
            placed = scene.ctx.ledger.placed(times)
            audit.fail(f"{token} posted {len(times)}x to {owner.key} in Teams ({placed})")


def check_employee_messages(scene: Scene, audit: Audit) -> int:
    """Employee messages: once in Chatwoot, once in our store (and on the web API).

    Return how many unconfirmed messages did arrive (once).
    """
    truth, db_counts = scene.truth, scene.db_counts
    for kind in ("web", "teams"):
        audit.rows[f"employee messages ({kind})"] = Row(note="incl. unconfirmed that arrived")
    ambiguous = 0
    for token, message in sorted(scene.ctx.ledger.messages.items()):
        owner = scene.by_key[message.owner]
        row = audit.rows[f"employee messages ({owner.kind})"]
        in_chatwoot = truth.incoming[token]
        if not message.confirmed and in_chatwoot == 0:
            continue  # never confirmed and never arrived: the user was told, or saw nothing
        row.sent += 1
        row.received += min(in_chatwoot, 1)
        ambiguous += not message.confirmed
        if in_chatwoot == 0:
            row.lost += 1
            audit.fail(f"{token} of {owner.key} confirmed but not in Chatwoot")
        elif in_chatwoot > 1:
            row.duplicates += 1
            audit.fail(f"{token} of {owner.key} is {in_chatwoot}x in Chatwoot")
        if in_chatwoot and db_counts[token] != 1:
            row.lost += db_counts[token] == 0
            row.duplicates += db_counts[token] > 1
            audit.fail(f"{token} of {owner.key} stored {db_counts[token]}x by us")
        shown = scene.api_counts.get(owner.key, Counter())[token]
        if isinstance(owner, WebEmployee) and in_chatwoot and shown != 1:
            audit.fail(f"{token} of {owner.key} shown {shown}x on the API")
            row.lost += shown == 0
            row.duplicates += shown > 1
    return ambiguous


def check_tickets(scene: Scene, audit: Audit) -> int:
    """Tickets: one conversation per confirmed ticket, none twice; return the orphans left."""
    truth = scene.truth
    db_titles: Counter[str] = Counter()
    for ticket_row in truth.db_tickets:
        db_titles.update(t for t in tokens_in(ticket_row["title"]) if t.startswith("T"))
    for kind in ("web", "teams"):
        audit.rows[f"tickets opened ({kind})"] = Row()
    orphans = 0
    for token, ticket in sorted(scene.ctx.ledger.tickets.items()):
        owner = scene.by_key[ticket.owner]
        row = audit.rows[f"tickets opened ({owner.kind})"]
        if ticket.ticket_id is None:
            orphans += truth.titles[token] > db_titles[token]
            if truth.titles[token] > 1 or db_titles[token] > 1:
                row.duplicates += 1
                audit.fail(f"unconfirmed {token} made {truth.titles[token]} conversations")
            continue
        row.sent += 1
        row.received += min(truth.titles[token], 1)
        if truth.titles[token] == 0 or db_titles[token] == 0:
            row.lost += 1
            audit.fail(f"ticket {token} of {owner.key}: {truth.titles[token]} in Chatwoot")
        elif truth.titles[token] > 1 or db_titles[token] > 1 or truth.incoming[token] > 1:
            row.duplicates += 1
            audit.fail(f"ticket {token} of {owner.key} duplicated")
    return orphans
