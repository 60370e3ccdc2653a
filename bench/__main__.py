"""Run the benchmarks: `python -m bench` writes bench/results.json and prints the tables."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.context import Benchmark, Context, Figures
from bench.harness import postgres
from bench.report import HEADLINE_COLUMNS, summary_rows, table

RESULTS = Path(__file__).resolve().parent / "results.json"


def benchmarks() -> dict[str, Benchmark]:
    """Return every benchmark by name, in the order `make bench` runs them."""
    from bench import fanout, growth, ingest, reply, teams, turns, uploads

    return {
        "ingest": ingest.webhook_ingest,
        "growth": growth.growth,
        "reply": reply.agent_reply,
        "teams": teams.teams_sustained,
        "fanout": fanout.fan_out,
        "turns": turns.bot_turns,
        "uploads": uploads.uploads,
    }


def machine() -> dict[str, Any]:
    """Describe the machine the figures come from."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cores": os.cpu_count(),
        "cpu": model or platform.processor(),
        "memory_gb": round(memory / 2**30, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


async def run(names: list[str], ctx: Context) -> dict[str, Figures]:
    """Run the named benchmarks one after another; a failure is recorded, not fatal."""
    known = benchmarks()
    results: dict[str, Figures] = {}
    for name in names:
        started = time.perf_counter()
        print(f"\n== {name} ==", flush=True)
        try:
            sections = await known[name](ctx)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            sections = {name: {"error": f"{type(exc).__name__}: {exc}"}}
        took = round(time.perf_counter() - started, 1)
        for section, figures in sections.items():
            figures.setdefault("seconds", took)
            results[section] = figures
            rows = figures.get("headline")
            if rows:
                print(table([{"benchmark": section, **row} for row in rows], HEADLINE_COLUMNS))
            elif "error" in figures or "skipped" in figures:
                print(f"{section}: {figures.get('error') or figures.get('skipped')}")
    return results


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the benchmarks, write the JSON and print the tables."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full counts")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument("--profile", default=None, help="run this benchmark's service profiled")
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    args = parser.parse_args(argv)
    known = list(benchmarks())
    names = [n.strip() for n in args.only.split(",") if n.strip()] or known
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    logs = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    started = time.perf_counter()

    async def everything() -> dict[str, Figures]:
        async with postgres() as pg:
            ctx = Context(
                pg=pg,
                logs=logs,
                scale=args.scale,
                profile=args.profile,
                profile_dir=args.out.parent,
            )
            return await run(names, ctx)

    try:
        results = asyncio.run(everything())
    finally:
        if args.keep_logs:
            print(f"logs kept in {logs}")
        else:
            shutil.rmtree(logs, ignore_errors=True)
    document = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "scale": args.scale,
        "seconds": round(time.perf_counter() - started, 1),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print("\n== summary ==")
    print(table(summary_rows(results), HEADLINE_COLUMNS))
    print(f"\nwrote {args.out} in {document['seconds']} s")
    print(json.dumps(document, separators=(",", ":")))
    failed = [name for name, figures in results.items() if "error" in figures]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
