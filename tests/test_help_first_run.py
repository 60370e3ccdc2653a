"""`make run` with nothing configured suggests the bundled sandbox's Help Center articles."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.first_run import problems, serving
from tickets.settings import Settings, SettingsError, load_settings

META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


async def test_first_run_suggests_the_sandbox_portals_articles(tmp_path: Path) -> None:
    async with (
        serving(tmp_path) as served,
        httpx.AsyncClient(base_url=served.base, timeout=30) as http,
    ):
        page = await http.get("/signup")
        found = META_CSRF.search(page.text)
        assert found
        signed = await http.post(
            "/signup",
            data={
                "csrf_token": found.group(1),
                "name": "Ana Souza",
                "email": "ana@example.com",
                "password": "correct horse battery",
            },
        )
        assert signed.status_code == 303
        # Sign-up only mails a link; the account signs in with its password right away.
        page = await http.get("/login")
        found = META_CSRF.search(page.text)
        assert found
        credentials = {"email": "ana@example.com", "password": "correct horse battery"}
        signed_in = await http.post("/login", data={"csrf_token": found.group(1), **credentials})
        assert signed_in.status_code == 303
        form = await http.get("/tickets/new")
        assert 'id="help-suggestions"' in form.text and "help.js" in form.text
        answer = await http.get("/api/help/articles", params={"query": "vpn"})
        assert answer.status_code == 200
        [first, *_] = answer.json()["articles"]
        assert first["title"] == "Como conectar à VPN da empresa"
        assert first["url"].startswith(f"http://127.0.0.1:{served.sandbox_port}/hc/ti/")
        assert (await http.get(first["url"])).status_code == 200
    assert problems(served) == []


def test_portal_slug_and_admin_emails_settings() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        CHATWOOT_PORTAL_SLUG="ajuda-ti_2",
        ADMIN_EMAILS=" boss@example.com ,, it@example.com ",
    )
    assert settings.CHATWOOT_PORTAL_SLUG == "ajuda-ti_2"
    assert settings.ADMIN_EMAILS == ["boss@example.com", "it@example.com"]
    assert Settings(_env_file=None).CHATWOOT_PORTAL_SLUG == ""  # type: ignore[call-arg]
    for bad in ("../admin", "ti/pt_BR", "a b", "x" * 101):
        with pytest.raises(SettingsError, match="CHATWOOT_PORTAL_SLUG"):
            load_settings(_env_file=None, CHATWOOT_PORTAL_SLUG=bad)
