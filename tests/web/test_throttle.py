"""Login throttling under concurrency: a burst of guesses gets no more checks than the limit."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from db.models import RateHit
from tests.web.conftest import PASSWORD, Client, MakeWeb, page_csrf, signup
from tickets import keys
from web.auth import (
    ACCOUNT_GUESSES,
    FAILURES_SETTLED,
    MAX_FAILURES_PER_ACCOUNT,
    MAX_FAILURES_PER_ADDRESS,
)

BURST = 40


async def _burst(client: Client, guesses: list[tuple[str, str]]) -> list[int]:
    token = await page_csrf(client, "/login")

    async def guess(email: str, password: str) -> int:
        response = await client.post(
            "/login",
            data={"csrf_token": token, "email": email, "password": password},
            allow_redirects=False,
        )
        await response.read()
        return response.status

    return list(await asyncio.gather(*(guess(email, password) for email, password in guesses)))


async def test_forty_parallel_guesses_get_at_most_the_account_limit(make_web: MakeWeb) -> None:
    owner = await make_web()
    await signup(owner, "vitima@example.com")
    attacker = await make_web()
    guesses = [("vitima@example.com", f"wrong guess {n:02d}!") for n in range(BURST - 1)]
    # The right password hides among the guesses: it must not be checked past the limit either.
    guesses.insert(random.randrange(BURST), ("vitima@example.com", PASSWORD))
    statuses = await _burst(attacker, guesses)
    checked = [status for status in statuses if status != 429]
    assert len(checked) <= MAX_FAILURES_PER_ACCOUNT, statuses
    assert statuses.count(429) >= BURST - MAX_FAILURES_PER_ACCOUNT
    assert set(statuses) <= {401, 429, 303}
    # Afterwards the account stays locked for this window, even for the right password, when
    # every checked guess was a failure (a checked right password is a success, not a failure).
    if 303 not in statuses:
        assert (await _burst(attacker, [("vitima@example.com", PASSWORD)])) == [429]


async def test_parallel_guesses_across_accounts_get_at_most_the_address_limit(
    make_web: MakeWeb,
) -> None:
    client = await make_web()
    guesses = [(f"pessoa{n}@example.com", "wrong guess!!") for n in range(BURST)]
    statuses = await _burst(client, guesses)
    assert statuses.count(401) <= MAX_FAILURES_PER_ADDRESS, statuses
    assert statuses.count(429) >= BURST - MAX_FAILURES_PER_ADDRESS


async def test_a_successful_sign_in_does_not_count_against_the_address(
    make_web: MakeWeb,
) -> None:
    client = await make_web()
    await signup(client, "frequente@example.com")
    for _ in range(3):
        assert (await _burst(client, [("frequente@example.com", PASSWORD)])) == [303]
    async with client.app[keys.SESSIONMAKER]() as db:
        stored = await db.scalar(
            select(func.count()).select_from(RateHit).where(RateHit.key.like("email:%"))
        )
        by_address = await db.scalar(
            select(func.count()).select_from(RateHit).where(RateHit.key.like("ip:%"))
        )
    assert stored == 0 and by_address == 0


async def test_a_success_forgets_settled_failures_but_not_racing_ones(make_web: MakeWeb) -> None:
    client = await make_web()
    await signup(client, "distraida@example.com")
    key = "email:distraida@example.com"
    async with client.app[keys.SESSIONMAKER].begin() as db:
        # A typo a minute ago, and a guess claimed a moment ago that may still be checked.
        db.add(RateHit(key=key, hit_at=func.now() - timedelta(minutes=1)))
        db.add(RateHit(key=key))
    assert (await _burst(client, [("distraida@example.com", PASSWORD)])) == [303]
    async with client.app[keys.SESSIONMAKER]() as db:
        left = (await db.scalars(select(RateHit.hit_at).where(RateHit.key == key))).all()
    # The racing guess stays, and so does the success's own place while a guess races it.
    assert len(left) == 2
    assert all(moment > datetime.now(UTC) - FAILURES_SETTLED for moment in left)


async def test_parallel_wrong_current_passwords_get_at_most_the_sign_in_budget(
    make_web: MakeWeb,
) -> None:
    # The profile's password change counts in the same throttle as sign-ins, with their budget.
    client = await make_web()
    csrf = await signup(client, "perfil@example.com")

    async def change(current: str) -> int:
        response = await client.post(
            "/profile/password",
            data={"csrf_token": csrf, "current_password": current, "new_password": "farol azul 42"},
            allow_redirects=False,
        )
        await response.read()
        return response.status

    statuses = list(await asyncio.gather(*(change(f"wrong guess {n:02d}") for n in range(20))))
    assert statuses.count(422) <= ACCOUNT_GUESSES.count, statuses
    assert statuses.count(429) >= 20 - ACCOUNT_GUESSES.count
    async with client.app[keys.SESSIONMAKER]() as db:
        counted = await db.scalar(
            select(func.count()).select_from(RateHit).where(RateHit.key.like("password:%"))
        )
    # Refused guesses are not counted: waiting out the window always lets the owner back in.
    assert counted == statuses.count(422)
