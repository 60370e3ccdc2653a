"""Benchmark: an employee's 10 MB file through the service to Chatwoot, and the memory it costs.

The service spools an upload to a temporary file as it arrives and streams it on to Chatwoot,
so its resident memory should grow by far less than the file. The figure is the peak of the
service process's RSS during the upload over its settled RSS before it (sampled every 5 ms),
the worst of a few runs, against the issue's bound of twice the file's size.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx

from bench.context import Context, Figures
from bench.harness import INBOX_IDENTIFIER, Process, service, teams
from bench.report import headline, table
from bench.seed import mint_sessions, plain, seed_tickets

FILE_BYTES = 10 * 1024 * 1024
RUNS = 3
SAMPLE_EVERY = 0.005


async def _settled_rss(process: Process) -> int:
    """Return the RSS once it stops moving (the previous request's buffers returned)."""
    last = process.rss_bytes()
    for _ in range(20):
        await asyncio.sleep(0.05)
        now = process.rss_bytes()
        if abs(now - last) < 64 * 1024:
            return now
        last = now
    return last


async def _sample(process: Process, peak: list[int], done: asyncio.Event) -> None:
    while not done.is_set():
        peak[0] = max(peak[0], process.rss_bytes())
        await asyncio.sleep(SAMPLE_EVERY)


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 256 * 1024):
        yield data[start : start + 256 * 1024]


async def _upload(http: httpx.AsyncClient, url: str, data: bytes) -> float:
    """Post one message with the file as multipart; return the seconds it took."""
    boundary = "bench-upload-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="content"\r\n\r\nbench file\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
        f'filename="dados.zip"\r\nContent-Type: application/zip\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    async def body() -> AsyncIterator[bytes]:
        yield head
        async for chunk in _chunks(data):
            yield chunk
        yield tail

    started = time.monotonic()
    answer = await http.post(
        url,
        content=body(),
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + len(data) + len(tail)),
        },
    )
    if answer.status_code != 201:
        raise RuntimeError(f"upload answered {answer.status_code}: {answer.text[:200]}")
    return time.monotonic() - started


async def _employee(database_url: str, sandbox_url: str, connector_url: str) -> tuple[int, int]:
    """Seed one employee with a ticket on a real sandbox conversation of their own contact."""
    seeded = await seed_tickets(
        database_url, first=0, stop=1, per_user=1, messages_per_ticket=0, service_url=connector_url
    )
    user, ticket = seeded.user(0), seeded.ticket(0)
    base = f"{sandbox_url}/public/api/v1/inboxes/{INBOX_IDENTIFIER}"
    async with httpx.AsyncClient(timeout=10.0) as http:
        contact = await http.post(f"{base}/contacts", json={"name": "Bench Upload"})
        contact.raise_for_status()
        source_id = contact.json()["source_id"]
        created = await http.post(f"{base}/contacts/{source_id}/conversations", json={})
        created.raise_for_status()
        conversation = int(created.json()["id"])
    connection = await asyncpg.connect(plain(database_url))
    try:
        # The seed makes no contact links: this one is the sandbox contact that owns the chat.
        await connection.execute(
            "INSERT INTO chatwoot_contact_link (user_id, inbox_identifier, source_id) "
            "VALUES ($1, $2, $3)",
            user,
            INBOX_IDENTIFIER,
            source_id,
        )
        await connection.execute(
            "UPDATE tickets SET chatwoot_conversation_id = $1 WHERE id = $2", conversation, ticket
        )
    finally:
        await connection.close()
    return user, ticket


async def uploads(ctx: Context) -> dict[str, Figures]:
    """Measure the service's extra memory while a 10 MB upload passes through it."""
    database_url = await ctx.pg.fresh_database("uploads")
    runs: list[Figures] = []
    async with (
        teams() as connector,
        service(database_url, ctx.logs, profile=ctx.profile_path("uploads")) as svc,
    ):
        user, ticket = await _employee(database_url, svc.sandbox_url, connector.url)
        token = (await mint_sessions(database_url, [user]))[user]
        assert svc.app is not None
        url = f"{svc.url}/api/conversations/{ticket}/messages"
        cookie = {"Cookie": f"tft_session={token}"}
        async with httpx.AsyncClient(headers=cookie, timeout=120.0) as http:
            csrf = (await http.get(f"{svc.url}/api/session")).json()["csrf_token"]
            http.headers.update({"X-CSRF-Token": csrf, "Origin": svc.url})
            await _upload(http, url, os.urandom(256 * 1024))  # warm: code paths, pools
            for run in range(1, RUNS + 1):
                data = os.urandom(FILE_BYTES)
                before = await _settled_rss(svc.app)
                peak, done = [before], asyncio.Event()
                sampler = asyncio.create_task(_sample(svc.app, peak, done))
                seconds = await _upload(http, url, data)
                done.set()
                await sampler
                extra = peak[0] - before
                runs.append(
                    {
                        "run": run,
                        "file_mb": round(FILE_BYTES / 2**20, 1),
                        "rss_before_mb": round(before / 2**20, 1),
                        "peak_extra_mb": round(extra / 2**20, 2),
                        "extra_per_file": round(extra / FILE_BYTES, 3),
                        "seconds": round(seconds, 2),
                    }
                )
    worst = max(runs, key=lambda row: float(row["peak_extra_mb"]))
    print(table(runs, list(runs[0])))
    return {
        "uploads": {
            "file_mb": worst["file_mb"],
            "peak_extra_mb": worst["peak_extra_mb"],
            "extra_per_file": worst["extra_per_file"],
            "bound_per_file": 2.0,
            "within_bound": float(worst["extra_per_file"]) < 2.0,
            "runs": runs,
            # The "baseline" is the bound: twice the file's size.
            "headline": [
                headline(
                    "10 MB upload: peak extra memory (baseline: the 2x bound)",
                    float(worst["peak_extra_mb"]),
                    2 * float(worst["file_mb"]),
                    "MB",
                    lower_is_better=True,
                )
            ],
        }
    }
