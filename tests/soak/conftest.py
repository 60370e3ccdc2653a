"""The soak's pytest wiring: its time limit follows the plan; the audit table ends the output."""

from __future__ import annotations

import pytest

from tests.soak.ledger import AUDIT_TABLE, plan_from_env, time_limit


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give the soak test the time its plan needs (the suite's default is 60 s)."""
    limit = time_limit(plan_from_env())
    for item in items:
        if item.get_closest_marker("soak") is not None:
            item.add_marker(pytest.mark.timeout(limit), append=False)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the audit table after the test results, pass or fail."""
    table = terminalreporter.config.stash.get(AUDIT_TABLE, None)
    if table:
        terminalreporter.write_sep("=", "soak audit")
        terminalreporter.write_line(table)
