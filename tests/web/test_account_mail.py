"""Account e-mail over a real SMTP server: verification, reset, limits, allowed domains."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select, text

from db.embedded import free_port
from db.models import AccountToken, MailItem, User
from sandbox import SandboxServer
from sandbox.mail import MailServer
from tests.web.conftest import (
    PASSWORD,
    Client,
    MakeWeb,
    link_in,
    login,
    mails_to,
    open_ticket,
    page_csrf,
    signup,
)
from tickets import keys
from tickets.accounts import MAILS_PER_EMAIL

NEW_PASSWORD = "another horse staple"
META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


async def _post(client: Client, path: str, data: dict[str, str], page: str) -> Any:
    token = await page_csrf(client, page)
    return await client.post(path, data={"csrf_token": token, **data}, allow_redirects=False)


async def _signup_only(
    client: Client, email: str, name: str = "Ana", password: str = PASSWORD
) -> Any:
    return await _post(
        client, "/signup", {"name": name, "email": email, "password": password}, "/signup"
    )


def _without_csrf(html: str) -> str:
    found = META.search(html)
    assert found is not None
    return html.replace(found.group(1), "")


async def _outbox_when_settled(client: Client) -> list[tuple[str, str | None, str | None]]:
    """Wait until no e-mail is pending (the worker records the server's answer after it)."""
    async with asyncio.timeout(10):
        while True:
            async with client.app[keys.SESSIONMAKER]() as db:
                rows = (await db.execute(select(MailItem))).scalars().all()
            if all(row.state != "pending" for row in rows):
                return [(row.state, row.text_body, row.html_body) for row in rows]
            await asyncio.sleep(0.05)


def _local(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


async def _user(client: Client, email: str) -> User:
    async with client.app[keys.SESSIONMAKER]() as db:
        user = (await db.execute(select(User).where(User.email == email))).scalar_one()
    return user


async def _signed_in_as(client: Client) -> str | None:
    body = await (await client.get("/api/session")).json()
    return None if body["user"] is None else str(body["user"]["email"])


async def test_signup_mails_a_link_that_verifies_the_address_once(
    make_web: MakeWeb, mail_server: MailServer, sandbox: SandboxServer
) -> None:
    client = await make_web(SMTP_URL=mail_server.url)
    response = await _signup_only(client, "ana@example.com")
    assert response.status == 303
    assert response.headers["Location"] == "/signup/sent"
    sent = await client.get("/signup/sent")
    assert "Enviamos uma mensagem para ana@example.com" in await sent.text()

    [mail] = await mails_to(sandbox.mailbox, "ana@example.com")
    assert mail.subject == "Confirme seu e-mail"
    async with httpx.AsyncClient() as http:
        listed = (await http.get(f"{sandbox.url}/sandbox/api/mail")).json()
    assert [set(item) for item in listed] == [{"to", "subject", "text", "html", "receivedAt"}]
    assert (listed[0]["to"], listed[0]["subject"]) == ("ana@example.com", mail.subject)
    assert listed[0]["receivedAt"].endswith("Z") and listed[0]["text"] == mail.text
    assert "Confirmar e-mail" in mail.html and "<a href=" in mail.html
    link = link_in(mail)
    assert "/verify?token=" in link
    token = link.split("token=", 1)[1]
    async with client.app[keys.SESSIONMAKER]() as db:
        stored = (await db.execute(select(AccountToken))).scalars().all()
        dumped = await db.scalar(text("SELECT string_agg(t::text, ' ') FROM account_tokens t"))
    # Hashed at rest, and the sent mail's bodies (which held the link) are gone.
    assert len(stored) == 1 and token not in str(dumped)
    assert await _outbox_when_settled(client) == [("sent", None, None)]
    assert (await _user(client, "ana@example.com")).email_verified_at is None

    verified = await client.get(_local(link))
    assert verified.status == 200
    assert "O endereço ana@example.com está confirmado" in await verified.text()
    assert (await _user(client, "ana@example.com")).email_verified_at is not None
    again = await client.get(_local(link))
    assert again.status == 400
    assert "expirou ou já foi usado" in await again.text()


async def test_second_signup_for_an_address_answers_alike_and_mails_the_owner(
    make_web: MakeWeb, mail_server: MailServer, sandbox: SandboxServer
) -> None:
    owner = await make_web(SMTP_URL=mail_server.url)
    await signup(owner, "eva@example.com")
    intruder = await make_web()
    fresh = await make_web()
    taken = await _signup_only(
        intruder, "EVA@example.com", name="Not Eva", password="intruder pass 1"
    )
    new = await _signup_only(fresh, "nova@example.com")
    assert (taken.status, taken.headers["Location"]) == (new.status, new.headers["Location"])
    page_taken = (await (await intruder.get("/signup/sent")).text()).replace("eva@", "X@")
    page_new = (await (await fresh.get("/signup/sent")).text()).replace("nova@", "X@")
    assert _without_csrf(page_taken) == _without_csrf(page_new)

    mails = await mails_to(sandbox.mailbox, "eva@example.com", count=2)
    attempt = mails[1]
    assert attempt.subject == "Alguém tentou criar uma conta com seu e-mail"
    assert "Not Eva" not in attempt.text + attempt.html
    assert "/password/reset?token=" in link_in(attempt)
    # The account still belongs to its owner: the intruder's password opens nothing.
    assert await _signed_in_as(intruder) is None
    bad = await _post(
        intruder, "/login", {"email": "eva@example.com", "password": "intruder pass 1"}, "/login"
    )
    assert bad.status == 401


async def test_reset_by_mail_ends_every_session_and_works_once(
    make_web: MakeWeb, mail_server: MailServer, sandbox: SandboxServer
) -> None:
    first = await make_web(SMTP_URL=mail_server.url)
    await signup(first, "rui@example.com")
    second = await make_web()
    await login(second, "rui@example.com")
    stranger = await make_web()
    older = await _post(stranger, "/password/forgot", {"email": "rui@example.com"}, "/login")
    assert older.status == 200
    answer = await _post(stranger, "/password/forgot", {"email": "rui@example.com"}, "/login")
    assert "Se houver uma conta para rui@example.com" in await answer.text()
    mails = await mails_to(sandbox.mailbox, "rui@example.com", count=3)
    old_link, link = link_in(mails[1]), link_in(mails[2])
    assert mails[2].subject == "Crie uma senha nova"

    form = await stranger.get(_local(link))
    assert form.status == 200
    csrf = await page_csrf(stranger, _local(link))
    done = await stranger.post(
        _local(link), data={"csrf_token": csrf, "password": NEW_PASSWORD}, allow_redirects=False
    )
    assert done.status == 303
    assert done.headers["Location"] == "/login?reset=1"
    assert await _signed_in_as(first) is None
    assert await _signed_in_as(second) is None
    notice = await stranger.get("/login?reset=1")
    assert "Senha alterada" in await notice.text()
    assert (await _user(first, "rui@example.com")).email_verified_at is not None

    again = await _post(stranger, _local(link), {"password": "third password 123"}, "/login")
    assert again.status == 400
    older_use = await stranger.get(_local(old_link))
    assert older_use.status == 400
    old = await _post(
        stranger, "/login", {"email": "rui@example.com", "password": PASSWORD}, "/login"
    )
    assert old.status == 401
    await login(stranger, "rui@example.com", NEW_PASSWORD)


async def test_expired_and_wrong_purpose_tokens_are_refused(
    make_web: MakeWeb, mail_server: MailServer, sandbox: SandboxServer
) -> None:
    client = await make_web(SMTP_URL=mail_server.url)
    await _signup_only(client, "lia@example.com")
    verify_link = link_in((await mails_to(sandbox.mailbox, "lia@example.com"))[0])
    await _post(client, "/password/forgot", {"email": "lia@example.com"}, "/login")
    reset_link = link_in((await mails_to(sandbox.mailbox, "lia@example.com", count=2))[1])
    # A reset link is not a verification link, and the other way round.
    swapped = await client.get("/verify?" + urlsplit(reset_link).query)
    assert swapped.status == 400
    assert (await client.get("/password/reset?" + urlsplit(verify_link).query)).status == 400

    async with client.app[keys.SESSIONMAKER].begin() as db:
        await db.execute(text("UPDATE account_tokens SET expires_at = now() - interval '1 second'"))
    assert (await client.get(_local(reset_link))).status == 400
    late = await _post(client, _local(reset_link), {"password": NEW_PASSWORD}, "/login")
    assert late.status == 400
    assert "expirou ou já foi usado" in await late.text()
    assert (await client.get(_local(verify_link))).status == 400
    assert (await _user(client, "lia@example.com")).email_verified_at is None
    await login(client, "lia@example.com")  # the password did not change


async def test_a_token_acts_on_its_own_account_only(
    make_web: MakeWeb, mail_server: MailServer, sandbox: SandboxServer
) -> None:
    alice = await make_web(SMTP_URL=mail_server.url)
    await signup(alice, "alice@example.com")
    bob = await make_web()
    await signup(bob, "bob@example.com")
    alice_link = link_in((await mails_to(sandbox.mailbox, "alice@example.com"))[0])
    # Bob, signed in, follows Alice's link: it confirms Alice's address, not Bob's.
    answer = await bob.get(_local(alice_link))
    assert answer.status == 200
    assert "alice@example.com" in await answer.text()
    assert (await _user(bob, "alice@example.com")).email_verified_at is not None
    assert (await _user(bob, "bob@example.com")).email_verified_at is None
    await _post(bob, "/password/forgot", {"email": "alice@example.com"}, "/login")
    reset = link_in((await mails_to(sandbox.mailbox, "alice@example.com", count=2))[1])
    done = await _post(bob, _local(reset), {"password": NEW_PASSWORD}, _local(reset))
    assert done.status == 303
    # Alice's sessions ended; Bob's own password and other sessions are untouched.
    assert await _signed_in_as(alice) is None
    await login(bob, "bob@example.com")
    await login(await make_web(), "alice@example.com", NEW_PASSWORD)


async def test_twenty_reset_requests_in_a_minute_are_throttled_with_the_same_answer(
    make_web: MakeWeb, mail_server: MailServer, sandbox: SandboxServer
) -> None:
    client = await make_web(SMTP_URL=mail_server.url)
    await signup(client, "caio@example.com")
    asker = await make_web()
    csrf = await page_csrf(asker, "/password/forgot")
    bodies: set[str] = set()
    for _ in range(20):
        answer = await asker.post(
            "/password/forgot", data={"csrf_token": csrf, "email": "caio@example.com"}
        )
        assert answer.status == 200
        bodies.add(await answer.text())
    assert len(bodies) == 1
    unknown = await asker.post(
        "/password/forgot", data={"csrf_token": csrf, "email": "nobody@example.com"}
    )
    assert unknown.status == 200
    assert (await unknown.text()).replace("nobody@", "caio@") == bodies.pop()
    async with client.app[keys.SESSIONMAKER]() as db:
        queued = (
            (await db.execute(select(MailItem.to_address).where(MailItem.subject.like("Crie%"))))
            .scalars()
            .all()
        )
    assert queued == ["caio@example.com"] * MAILS_PER_EMAIL.count
    resets = await mails_to(sandbox.mailbox, "caio@example.com", count=1 + MAILS_PER_EMAIL.count)
    assert [mail.subject for mail in resets[1:]] == ["Crie uma senha nova"] * 3


async def test_signup_outside_the_allowed_domains_gets_a_clear_message(
    make_web: MakeWeb, mail_server: MailServer
) -> None:
    client = await make_web(
        SMTP_URL=mail_server.url, SIGNUP_ALLOWED_DOMAINS="empresa.com.br, filial.com"
    )
    form = await client.get("/signup")
    assert "empresa.com.br, filial.com" in await form.text()
    refused = await _signup_only(client, "ana@gmail.com")
    assert refused.status == 422
    body = await refused.text()
    assert "Este domínio não pode criar conta aqui" in body
    assert 'value="ana@gmail.com"' in body
    async with client.app[keys.SESSIONMAKER]() as db:
        assert (await db.execute(select(User))).first() is None
    accepted = await _signup_only(client, "ana@Filial.com")
    assert accepted.status == 303


async def test_signup_is_throttled_per_client_address(make_web: MakeWeb) -> None:
    client = await make_web(SIGNUPS_PER_ADDRESS_HOUR=4)
    for number in range(4):
        assert (await _signup_only(client, f"user{number}@example.com")).status == 303
    refused = await _signup_only(client, "one.more@example.com")
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "3600"
    assert "Muitas contas criadas a partir desta rede" in await refused.text()
    async with client.app[keys.SESSIONMAKER]() as db:
        assert await db.scalar(select(User.id).where(User.email == "one.more@example.com")) is None


async def test_smtp_down_signup_completes_and_the_outbox_retries(
    make_web: MakeWeb, sandbox: SandboxServer
) -> None:
    port = free_port()
    client = await make_web(SMTP_URL=f"smtp://127.0.0.1:{port}")
    client.app[keys.MAIL_WORKER].retry_delays = (0.2,)
    await signup(client, "dora@example.com")  # completes, and the account can sign in
    sessions = client.app[keys.SESSIONMAKER]

    async def attempts() -> tuple[int, str | None]:
        async with sessions() as db:
            item = (await db.execute(select(MailItem))).scalar_one()
        return item.attempts, item.last_error

    async with asyncio.timeout(15):
        # Polls the outbox row, the observable record of each failed attempt.
        while (await attempts())[0] < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    _, error = await attempts()
    assert error is not None and "Connect" in error
    server = MailServer(sandbox.mailbox)
    await server.start("127.0.0.1", port)
    try:
        [mail] = await mails_to(sandbox.mailbox, "dora@example.com")
        assert mail.subject == "Confirme seu e-mail"
        # The user can ask again: a fresh link goes out too.
        resend = await _post(client, "/verify/resend", {}, "/profile")
        assert resend.status == 303
        assert resend.headers["Location"] == "/profile?verify=sent"
        mails = await mails_to(sandbox.mailbox, "dora@example.com", count=2)
        assert link_in(mails[0]) != link_in(mails[1])
        assert (await client.get(_local(link_in(mails[1])))).status == 200
    finally:
        await server.stop()


async def test_chatwoot_sees_the_address_marked_unverified_until_verified(
    make_web: MakeWeb, mail_server: MailServer, sandbox: SandboxServer
) -> None:
    client = await make_web(SMTP_URL=mail_server.url)
    csrf = await signup(client, "gil@example.com")
    await open_ticket(client, csrf)
    [contact] = sandbox.state.contacts.values()
    # Never in `email`: Chatwoot would merge this contact into whoever owns the address.
    assert contact.email is None
    assert contact.custom_attributes["email"] == "gil@example.com"
    assert contact.custom_attributes["email_verified"] is False
    link = link_in((await mails_to(sandbox.mailbox, "gil@example.com"))[0])
    assert (await client.get(_local(link))).status == 200
    assert contact.custom_attributes["email_verified"] is True
    assert contact.email is None
