"""The audit's table: rows of figures, the problems found, and how they are printed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tests.soak.ledger import Context, tokens_in
from tests.soak.truth import Truth


@dataclass
class Row:
    """One line of the audit table."""

    sent: int = 0
    received: int = 0
    duplicates: int = 0
    lost: int = 0
    leaks: int = 0
    note: str = ""


@dataclass
class Audit:
    """The figures, the table and the verdict."""

    rows: dict[str, Row] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    explained: int = 0
    # Bad-input tokens found shown or stored (counted on the "bad inputs" row).
    bad_traces: int = 0
    lines: list[str] = field(default_factory=list)

    def diagnose(self, truth: Truth) -> None:
        """For each lost token: its Chatwoot message id and what we stored around it."""
        stored: dict[int, list[int]] = defaultdict(list)
        for row in truth.db_messages:
            if row["chatwoot_message_id"] is not None:
                stored[int(row["chatwoot_conversation_id"])].append(int(row["chatwoot_message_id"]))
        lost = {t for p in self.problems for t in tokens_in(p) if t[0] in "AE" and "missing" in p}
        lost |= {t for p in self.problems for t in tokens_in(p) if "0x" in p or "never" in p}
        for token in sorted(lost)[:10]:
            if token not in truth.where:
                continue
            cid, message_id, at = truth.where[token]
            ids = sorted(stored[cid])
            later = [i for i in ids if i > message_id]
            self.lines.append(
                f"lost {token}: Chatwoot message {message_id} in conversation {cid} at {at};"
                f" we store {len(ids)} of its messages, {len(later)} of them newer"
                f" (first newer: {later[:3]})"
            )

    def fail(self, problem: str) -> None:
        """Record a broken promise (bounded list, counted in the table)."""
        if len(self.problems) < 40:
            self.problems.append(problem)


def render(ctx: Context, audit: Audit, extra: dict[str, Any]) -> str:
    """Format the audit table and the run's figures."""
    plan = ctx.plan
    lines = [
        "",
        f"SOAK AUDIT — {plan.web_users} web + {plan.teams_users} Teams employees, "
        f"{plan.agents} agents, {plan.load_seconds:.0f} s of load",
        f"{'':36}{'sent':>8}{'received':>10}{'dupes':>7}{'lost':>6}{'leaks':>7}",
    ]
    for name, row in audit.rows.items():
        lines.append(
            f"{name:36}{row.sent:>8}{row.received:>10}{row.duplicates:>7}{row.lost:>6}"
            f"{row.leaks:>7}  {row.note}"
        )
    bad: dict[str, list[int]] = {}
    for item in ctx.ledger.bad:
        seen = bad.setdefault(item.name, [0, 0, item.expected])
        seen[0] += 1
        seen[1] += item.rejected
    lines.append("bad inputs by kind (sent / rejected with the expected status):")
    lines += [
        f"  {name:40}{n:>5}{ok:>5}  → {status}" for name, (n, ok, status) in sorted(bad.items())
    ]
    lines.append("faults: " + ", ".join(f"{k} {v}" for k, v in sorted(ctx.ledger.faults.items())))
    lines += [f"  {key}: {value}" for key, value in extra.items()]
    lines += [f"  {line}" for line in audit.lines]
    counts = {k: v for k, v in sorted(ctx.ledger.counts.items())}
    lines.append(f"  activity: {counts}")
    if ctx.ledger.errors:
        lines.append(
            f"  unexpected answers (first {len(ctx.ledger.errors)}): {ctx.ledger.errors[:10]}"
        )
    verdict = "PASS" if not audit.problems else f"FAIL ({len(audit.problems)} problems)"
    lines.append(f"verdict: {verdict}")
    lines += [f"  ✗ {problem}" for problem in audit.problems]
    return "\n".join(lines)
