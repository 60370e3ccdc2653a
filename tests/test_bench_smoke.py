"""Run every benchmark tiny, so `make bench` keeps working; figures are checked, never timings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_bench(name: str, out: Path) -> dict[str, Any]:
    """Run one benchmark at 1% scale in its own process and return its results."""
    finished = subprocess.run(
        [sys.executable, "-m", "bench", "--only", name, "--scale", "0.01", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,  # a guard against a hang, not a timing: a busy machine is slow
        check=False,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    document: dict[str, Any] = json.loads(out.read_text())
    assert document["machine"]["cores"] >= 1 and document["scale"] == 0.01
    results: dict[str, Any] = document["results"]
    for section in results.values():
        assert "error" not in section
        for row in section["headline"]:
            assert row["ours"] is not None and row["baseline"] is not None, row
            assert row["ratio"] is not None and row["ratio"] > 0, row
    return results


@pytest.mark.slow
@pytest.mark.timeout(240)  # two services (1 and 2 workers) and two baselines, one after another
def test_ingest_and_duplicates(tmp_path: Path) -> None:
    results = run_bench("ingest", tmp_path / "r.json")
    ingest = results["webhook_ingest"]
    levels, two = ingest["levels"], ingest["levels_2_workers"]
    assert [row["level"] for row in levels] == ["100/s", "500/s", "1000/s", "flat-out"]
    assert [row["level"] for row in two] == ["100/s", "500/s", "1000/s", "flat-out"]
    for row in [*levels, *two]:
        assert row["ok"] == row["requests"] > 0 and row["errors"] == 0
        # One message, one Teams delivery and one receipt per webhook, nothing else.
        assert row["rows_written"] == 3 * row["ok"]
        assert row["cpu_ms_per_request"] > 0
    for row in levels:
        assert row["baseline_accepted_per_s"] > 0 and row["db_baseline_accepted_per_s"] > 0
    for row in ingest["alone"].values():  # keys are worker counts (1 and 2)
        assert row["ok"] == row["requests"] > 0 and row["cpu_ms_per_request"] > 0
    assert [row["ok"] for row in ingest["db_baseline_levels"]] == [
        row["requests"] for row in ingest["db_baseline_levels"]
    ]
    duplicates = results["duplicates"]
    assert duplicates["replayed_3x"]["ok"] == 3 * duplicates["unique_events"]
    assert duplicates["messages_stored"] == duplicates["unique_events"]


@pytest.mark.slow
@pytest.mark.timeout(200)  # three database sizes filled one after another: minutes when busy
def test_growth(tmp_path: Path) -> None:
    sizes = run_bench("growth", tmp_path / "r.json")["growth"]["sizes"]
    assert [row["tickets"] for row in sizes] == sorted({row["tickets"] for row in sizes})
    assert len(sizes) == 3
    for row in sizes:
        assert row["ingest_per_s"] > 0 and row["list_errors"] == 0
        assert row["list_p50_ms"] > 0 and row["healthz_p50_ms"] > 0


@pytest.mark.slow
@pytest.mark.timeout(200)  # two services (1 and 2 workers) and a baseline: minutes when busy
def test_agent_reply(tmp_path: Path) -> None:
    figures = run_bench("reply", tmp_path / "r.json")["agent_reply"]
    rows, two = figures["rows"], figures["rows_2_workers"]
    paths = ("web /ws", "Teams connector")
    assert [(row["load"], row["path"]) for row in rows] == [
        (load, path)
        for load in ("light (one at a time)", "100 replies/s", "flat-out")
        for path in paths
    ]
    assert [(row["load"], row["path"]) for row in two] == [
        (row["load"], row["path"]) for row in rows
    ]
    for row in [*rows, *two]:
        assert row["arrived"] == row["replies"] > 0 and row["completed_per_s"] > 0, row
        assert row.get("breaches", 0) == 0, row
    figures_named = {row["figure"] for row in figures["headline"]}
    assert "replies/s completed, Teams connector, flat-out, 2 workers vs 1" in figures_named
    assert "reply p99, web /ws, 100 replies/s, 2 workers vs 1" in figures_named


@pytest.mark.slow
@pytest.mark.timeout(200)  # the service and a baseline, each with every socket: minutes when busy
def test_fan_out(tmp_path: Path) -> None:
    phases = run_bench("fanout", tmp_path / "r.json")["fan_out"]["phases"]
    assert len(phases) == 2 and phases[0]["sockets"] < phases[1]["sockets"]
    for row in phases:
        watchers = phases[0]["sockets"]
        assert row["reached"] == row["baseline_reached"] == watchers, row
        assert row["rss_mb"] > 0 and row["baseline_rss_mb"] > 0


@pytest.mark.slow
@pytest.mark.timeout(200)  # two bot processes, each migrating its database: minutes when busy
def test_bot_turns(tmp_path: Path) -> None:
    figures = run_bench("turns", tmp_path / "r.json")["bot_turn"]
    assert figures["echo"]["failed"] == 0 and figures["echo"]["p50_ms"] > 0
    assert [row["turn"] for row in figures["turns"]] == [
        "text command 'meus chamados'",
        "form submit ticket.create",
    ]
    for row in figures["turns"]:
        assert row["failed"] == 0 and row["p50_ms"] > 0, row


@pytest.mark.slow
@pytest.mark.timeout(200)  # a one-tenant pace by design: slower than the others on a busy machine
def test_teams_sustained(tmp_path: Path) -> None:
    figures = run_bench("teams", tmp_path / "r.json")["teams_sustained"]
    ours = figures["ours"]
    # Every reply reached Teams, and the limiter kept every request inside Teams' limits.
    assert ours["sent"] == ours["replies"] == ours["offered"] > 0, ours
    assert ours["breaches"] == 0 and ours["sent_per_s"] > 0, ours
    assert figures["bare"]["sent"] == figures["bare"]["replies"] > 0


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_uploads_memory(tmp_path: Path) -> None:
    uploads = run_bench("uploads", tmp_path / "r.json")["uploads"]
    assert [row["run"] for row in uploads["runs"]] == [1, 2, 3]
    # Spooled to disk and streamed on: far below the file's size, let alone twice it.
    assert uploads["within_bound"] is True and uploads["extra_per_file"] < 2.0
