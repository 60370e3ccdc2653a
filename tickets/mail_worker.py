"""Drain the durable mail outbox over SMTP, with leases and retries, in the background."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import account_tokens
from db import mail as mail_repo
from tickets.smtp import MailRejected, MailUnavailable, SmtpClient

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
BATCH = 10
# Waits between attempts while the server is down; the last one repeats until the link expires.
RETRY_DELAYS: tuple[float, ...] = (5.0, 15.0, 60.0, 300.0)
IDLE_POLL = 30.0
PURGE_AFTER = timedelta(days=1)


def build_message(
    *, sender: str, to_address: str, subject: str, text: str, html: str
) -> EmailMessage:
    """Build a multipart/alternative message: plain text first, HTML as the richer part."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to_address
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class MailWorker:
    """Send queued e-mails as they come (a local wake-up) and on a timer (retries, peers)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        smtp: SmtpClient | None,
        *,
        sender: str,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self._sessions = sessions
        self._smtp = smtp
        self._sender = sender
        self.retry_delays = tuple(retry_delays)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Look at the outbox now (a mail was just queued)."""
        self._wake.set()

    def start(self) -> None:
        """Start draining in the background (no-op without a mail server)."""
        if self._smtp is None:
            log.warning("no SMTP_URL: account e-mail is queued in the outbox, not sent")
            return
        self._task = asyncio.create_task(self._run(), name="mail-worker")

    async def stop(self) -> None:
        """Stop draining; a message in flight keeps its lease and is retried later."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                pause = await self.drain()
            except Exception:  # the loop must outlive a database hiccup
                log.exception("mail outbox pass failed")
                pause = IDLE_POLL
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(pause, 0.05))

    async def drain(self) -> float:
        """Send every due e-mail; return how long to wait before the next pass."""
        assert self._smtp is not None
        while True:
            now = datetime.now(UTC)
            async with self._sessions.begin() as session:
                await mail_repo.expire_stale(session, now)
                batch = await mail_repo.claim_due(session, now=now, lease=LEASE, limit=BATCH)
            if not batch:
                break
            for item in batch:
                await self._send(item)
        async with self._sessions.begin() as session:
            await account_tokens.purge_tokens(session, datetime.now(UTC) - PURGE_AFTER)
            due = await mail_repo.next_due(session)
        if due is None:
            return IDLE_POLL
        return min(IDLE_POLL, (due - datetime.now(UTC)).total_seconds())

    async def _send(self, item: mail_repo.ClaimedMail) -> None:
        assert self._smtp is not None
        message = build_message(
            sender=self._sender,
            to_address=item.to_address,
            subject=item.subject,
            text=item.text_body,
            html=item.html_body,
        )
        try:
            await self._smtp.send(message)
        except MailRejected as exc:
            log.warning("mail %s refused for good: %s", item.id, exc)
            async with self._sessions.begin() as session:
                await mail_repo.mark_failed(session, item.id, error=str(exc))
            return
        except MailUnavailable as exc:
            delay = self._delay(item.attempts)
            log.warning(
                "mail %s not sent (attempt %s), retry in %.0fs: %s",
                item.id,
                item.attempts,
                delay,
                exc,
            )
            async with self._sessions.begin() as session:
                await mail_repo.mark_retry(
                    session,
                    item.id,
                    error=str(exc),
                    next_attempt_at=datetime.now(UTC) + timedelta(seconds=delay),
                )
            return
        async with self._sessions.begin() as session:
            await mail_repo.mark_sent(session, item.id, datetime.now(UTC))

    def _delay(self, attempts: int) -> float:
        base = self.retry_delays[min(attempts, len(self.retry_delays)) - 1]
        # Jitter keeps several processes from knocking on a recovering server together.
        return base * random.uniform(0.8, 1.2)
