"""Only the organisation's own tenants get in, and only verified e-mail claims are trusted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from db.models import User
from sandbox import SandboxServer
from tests.bot.harness import APP_ID, APP_PASSWORD, TENANT
from tests.fakes.oidc import FakeIdentityProvider, IdpUser
from tests.web.conftest import Client, MakeWeb, signup
from tests.web.test_microsoft import CLIENT_ID, OID, SECRET, _microsoft_login, _through_idp
from tests.web.test_microsoft import TENANT as WEB_TENANT
from tickets import keys
from tickets.settings import SettingsError, load_settings

OTHER_TENANT = "99999999-8888-4777-8666-555555555555"
STRONG_KEY = "m5IsQlfPKOr3XHfJ6BqcKCT6LtkGrhSEeQ41Z54xGoc"


def _settings(**overrides: Any) -> Any:
    return load_settings(_env_file=None, SECRET_KEY=STRONG_KEY, **overrides)


# ---- settings --------------------------------------------------------------------------------


def test_a_single_tenant_bot_allows_its_own_tenant_by_default() -> None:
    settings = _settings(
        MICROSOFT_APP_ID=APP_ID, MICROSOFT_APP_PASSWORD=APP_PASSWORD, MICROSOFT_APP_TENANT_ID=TENANT
    )
    assert settings.allowed_tenants == frozenset({TENANT})


def test_allowed_tenants_is_a_comma_separated_list() -> None:
    settings = _settings(ALLOWED_TENANTS=f" {TENANT}, {OTHER_TENANT} ")
    assert settings.allowed_tenants == frozenset({TENANT, OTHER_TENANT})


def test_web_login_for_any_organisation_needs_a_tenant_list() -> None:
    with pytest.raises(SettingsError, match="ALLOWED_TENANTS"):
        _settings(MICROSOFT_CLIENT_ID=CLIENT_ID, MICROSOFT_CLIENT_SECRET=SECRET)
    named = _settings(
        MICROSOFT_CLIENT_ID=CLIENT_ID, MICROSOFT_CLIENT_SECRET=SECRET, ALLOWED_TENANTS=TENANT
    )
    assert named.allowed_tenants == frozenset({TENANT})


# ---- the web Microsoft login -----------------------------------------------------------------


@pytest.fixture
async def web_idp(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeIdentityProvider]:
    """The stand-in identity provider for the web login's tenant."""
    provider = FakeIdentityProvider(
        tenant=WEB_TENANT,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        user=IdpUser(oid=OID, tid=WEB_TENANT, name="Marta Lima", preferred_username="m@x.com"),
    )
    await provider.start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", provider.ca_file)
    yield provider
    await provider.stop()


async def _web(make_web: MakeWeb, idp: FakeIdentityProvider) -> Client:
    return await make_web(
        MICROSOFT_CLIENT_ID=CLIENT_ID,
        MICROSOFT_CLIENT_SECRET=SECRET,
        MICROSOFT_TENANT_ID=WEB_TENANT,
        MICROSOFT_AUTHORITY_HOST=idp.url,
    )


async def _users(client: Client) -> list[User]:
    async with client.app[keys.SESSIONMAKER]() as db:
        return list((await db.execute(select(User).order_by(User.id))).scalars())


async def test_a_web_login_from_another_tenant_is_refused(
    make_web: MakeWeb, web_idp: FakeIdentityProvider
) -> None:
    client = await _web(make_web, web_idp)
    web_idp.user = IdpUser(
        oid=OID, tid=OTHER_TENANT, name="Intrusa", preferred_username="i@evil.example"
    )
    refused = await _microsoft_login(client, web_idp)
    assert refused.status == 400
    assert (await (await client.get("/api/session")).json())["user"] is None
    assert await _users(client) == []


async def test_an_unverified_email_claim_is_not_kept(
    make_web: MakeWeb, web_idp: FakeIdentityProvider
) -> None:
    client = await _web(make_web, web_idp)
    web_idp.user = IdpUser(
        oid=OID,
        tid=WEB_TENANT,
        name="Marta",
        preferred_username="ceo@contoso.com",
        email="ceo@contoso.com",
        email_domain_verified=False,
    )
    assert (await _microsoft_login(client, web_idp)).status == 303
    [user] = await _users(client)
    assert (user.email, user.email_verified_by_entra) == (None, False)


async def test_a_verified_email_claim_is_kept_and_marked_verified(
    make_web: MakeWeb, web_idp: FakeIdentityProvider, sandbox: SandboxServer
) -> None:
    client = await _web(make_web, web_idp)
    web_idp.user = IdpUser(
        oid=OID,
        tid=WEB_TENANT,
        name="Marta",
        preferred_username="marta@contoso.com",
        email="marta@contoso.com",
        email_domain_verified=True,
    )
    assert (await _microsoft_login(client, web_idp)).status == 303
    [user] = await _users(client)
    assert (user.email, user.email_verified_by_entra) == ("marta@contoso.com", True)
    await _open_ticket(client)
    assert _contact_attributes(sandbox, "marta@contoso.com")["email_verified_by_entra"] is True


async def test_a_signed_up_address_stays_unverified_after_linking_microsoft(
    make_web: MakeWeb, web_idp: FakeIdentityProvider, sandbox: SandboxServer
) -> None:
    client = await _web(make_web, web_idp)
    csrf = await signup(client, "diretora@contoso.com", name="Paula")
    start = await client.post(
        "/profile/microsoft", data={"csrf_token": csrf}, allow_redirects=False
    )
    done = await _through_idp(client, web_idp, start.headers["Location"])
    assert done.headers["Location"] == "/profile?microsoft=done"
    await _open_ticket(client, csrf)
    attributes = _contact_attributes(sandbox, "diretora@contoso.com")
    assert attributes["email_verified_by_entra"] is False


async def _open_ticket(client: Client, csrf: str | None = None) -> None:
    if csrf is None:
        csrf = str((await (await client.get("/api/session")).json())["csrf_token"])
    response = await client.post(
        "/api/conversations",
        json={
            "title": "Acesso",
            "description": "Sem acesso.",
            "complexity": "baixa",
            "sector": "TI",
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status == 201, await response.text()


def _contact_attributes(sandbox: SandboxServer, email: str) -> dict[str, Any]:
    for contact in sandbox.desk.state.contacts.values():
        attributes = dict(getattr(contact, "custom_attributes", None) or {})
        if attributes.get("email") == email:
            return attributes
    raise AssertionError(f"no contact carries {email}")
