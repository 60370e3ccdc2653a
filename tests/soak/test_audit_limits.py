"""The soak audit fails on Teams limit breaches and names their scope and window."""

from __future__ import annotations

from tests.fakes.connector import Breach
from tests.soak.audit import check_limits
from tests.soak.table import Audit


def test_breaches_fail_the_audit_by_scope_and_window() -> None:
    tenant = Breach("tenant", "t-1", 1.0, 50, 51, 10.0)
    chat = Breach("conversation", "a:chat-1", 1.0, 7, 8, 11.0)
    audit = Audit()
    check_limits([tenant, chat, tenant], audit)
    assert audit.problems == ["3 Teams limit breaches (conversation 7/1 s: 1, tenant 50/1 s: 2)"]


def test_a_run_inside_the_limits_passes() -> None:
    audit = Audit()
    check_limits([], audit)
    assert audit.problems == []
