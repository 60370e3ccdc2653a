"""The audit's safety checks: no leak, the final state is Chatwoot's, bad input leaves no trace."""

from __future__ import annotations

import json
from collections import Counter

from tests.soak.ledger import tokens_in
from tests.soak.table import Audit, Row
from tests.soak.truth import Scene


def check(scene: Scene, audit: Audit) -> None:
    """Run every safety check, adding their rows in the table's order."""
    private_row = check_leaks(scene, audit)
    audit.rows["private notes"] = private_row
    check_statuses(scene, audit)
    check_assignees(scene, audit)
    check_deleted(scene, audit)
    check_markdown(scene, audit)
    check_bad_inputs(scene, audit)


def _owner_of(scene: Scene, token: str) -> str | None:
    ledger = scene.ctx.ledger
    kind = token[0]
    if kind == "T" and token in ledger.tickets:
        return ledger.tickets[token].owner
    if kind == "E" and token in ledger.messages:
        return ledger.messages[token].owner
    if kind == "F" and token in ledger.files:
        return _owner_of(scene, ledger.files[token])
    if kind in "AP" and token in ledger.agent_tokens:
        return scene.truth.owner_of_conversation.get(ledger.agent_tokens[token])
    return None


def check_leaks(scene: Scene, audit: Audit) -> Row:
    """Every token an employee was shown is theirs; private notes are nowhere (that row)."""
    ledger = scene.ctx.ledger
    private_row = Row(sent=len(scene.truth.private))
    for token in scene.truth.private:
        if scene.db_counts[token]:
            private_row.leaks += 1
            audit.fail(f"private note {token} stored by us")
    for person in scene.teams:
        for received in person.connector_activities():
            ledger.observe(person.key, "teams chat", json.dumps(received.activity))
    leak_row = Row()
    for user, channels in ledger.seen.items():
        for channel, seen in channels.items():
            for token in seen:
                leak_row.sent += 1
                if token.startswith("P"):
                    private_row.leaks += 1
                    audit.fail(f"private note {token} shown to {user} on {channel}")
                elif token.startswith("X"):
                    audit.bad_traces += 1
                    audit.fail(f"bad input {token} shown to {user} on {channel}")
                elif _owner_of(scene, token) != user:
                    leak_row.leaks += 1
                    owner = _owner_of(scene, token)
                    audit.fail(f"{token} (of {owner}) shown to {user} on {channel}")
    for user, channel, ticket_id in ledger.foreign_ids:
        leak_row.leaks += 1
        audit.fail(f"ticket {ticket_id} of someone else listed to {user} on {channel}")
    audit.rows["cross-user leaks (tokens checked)"] = leak_row
    return private_row


def check_statuses(scene: Scene, audit: Audit) -> None:
    """Final statuses: Chatwoot's, ours, and the web API's agree."""
    statuses = {int(c["id"]): c["status"] for c in scene.truth.conversations}
    row = Row()
    for ticket_row in scene.truth.db_tickets:
        cid = int(ticket_row["chatwoot_conversation_id"])
        if cid not in statuses:
            continue
        row.sent += 1
        shown = scene.api_status.get(int(ticket_row["id"]), ticket_row["status"])
        if ticket_row["status"] == statuses[cid] and shown == statuses[cid]:
            row.received += 1
        else:
            row.lost += 1
            ours = ticket_row["status"]
            audit.fail(f"conversation {cid}: Chatwoot {statuses[cid]}, ours {ours}, API {shown}")
    audit.rows["final statuses (match)"] = row


def check_assignees(scene: Scene, audit: Audit) -> None:
    """Every ticket's assignee is Chatwoot's (catch-up reads it back if events were lost)."""
    truth = scene.truth
    assignees = {int(c["id"]): (c.get("assignee") or {}).get("name") for c in truth.conversations}
    row = Row()
    for ticket_row in truth.db_tickets:
        cid = int(ticket_row["chatwoot_conversation_id"])
        if cid not in assignees:
            continue
        row.sent += 1
        if ticket_row["assignee_name"] == assignees[cid]:
            row.received += 1
        else:
            row.lost += 1
            ours = ticket_row["assignee_name"]
            audit.fail(
                f"conversation {cid}: assignee {assignees[cid]!r} in Chatwoot, ours {ours!r}"
            )
    audit.rows["assignees (match)"] = row


def check_deleted(scene: Scene, audit: Audit) -> None:
    """A deleted reply is shown nowhere: API, page, open /ws page, nor stored."""
    ledger = scene.ctx.ledger
    row = Row(sent=len(ledger.deleted))
    shown: Counter[str] = Counter()
    for counts in (*scene.api_counts.values(), *scene.page_counts.values()):
        shown.update(counts)
    for message in scene.truth.db_messages:
        shown.update(set(tokens_in(message["content"])))
    for view in ledger.ws_view.values():
        # What an open page shows now: a delete must have replaced the reply live.
        for content in view.values():
            shown.update(set(tokens_in(content)))
    for token in sorted(ledger.deleted):
        if shown[token]:
            row.leaks += 1
            audit.fail(f"deleted reply {token} still shown or stored")
        else:
            row.received += 1
    audit.rows["deleted replies (gone)"] = row


def check_markdown(scene: Scene, audit: Audit) -> None:
    """No stored message keeps a Markdown hard break or a trailing newline."""
    messages = scene.truth.db_messages
    artefacts = [
        m["chatwoot_message_id"]
        for m in messages
        if "\\\n" in (m["content"] or "") or (m["content"] or "").endswith("\n")
    ]
    for message_id in artefacts:
        audit.fail(f"message {message_id} stored with a Markdown hard break or trailing newline")
    audit.rows["Markdown artefacts"] = Row(sent=len(messages), leaks=len(artefacts))


def check_bad_inputs(scene: Scene, audit: Audit) -> None:
    """Bad input: the right status, and never a trace anywhere."""
    ledger = scene.ctx.ledger
    row = Row(sent=len(ledger.bad))
    row.received = sum(1 for b in ledger.bad if b.rejected)
    for bad in ledger.bad:
        if not bad.rejected:
            audit.fail(f"{bad.name}: expected {bad.expected}, got {bad.got}")
    everything = scene.truth.everything | set(scene.db_counts)
    traces = sorted(t for t in everything if t.startswith("X"))
    for token in traces:
        audit.fail(f"bad input {token} changed state")
    row.leaks = audit.bad_traces + len(traces)
    row.note = "received = rejected with the right status; leaks = state changed"
    audit.rows["bad inputs"] = row
