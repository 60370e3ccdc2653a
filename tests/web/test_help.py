"""Help before a ticket on the web: the suggestion API, the counts and the admin stats."""

from __future__ import annotations

import re
from typing import Any

import httpx

from sandbox import SandboxServer
from sandbox.portal import DEFAULT_PORTAL_SLUG
from tests.web.conftest import Client, MakeWeb, page_csrf, signup

ON = {"CHATWOOT_PORTAL_SLUG": DEFAULT_PORTAL_SLUG, "ADMIN_EMAILS": "Boss@Example.com, x@y.z"}
FORM_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
FORM = {"description": "Não conecta.", "complexity": "baixa", "sector": "TI"}


async def _portal_fault(sandbox: SandboxServer, **switches: Any) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{sandbox.url}/sandbox/api/portal/faults", json=switches)
        answer.raise_for_status()


async def _sandbox_conversations(sandbox: SandboxServer) -> list[Any]:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{sandbox.url}/sandbox/api/conversations")
        records: list[Any] = answer.json()
        return records


async def _articles(client: Client, query: str, form: str | None = None) -> list[dict[str, Any]]:
    params = {"query": query, **({"form": form} if form else {})}
    answer = await client.get("/api/help/articles", params=params)
    assert answer.status == 200, await answer.text()
    assert answer.headers["Cache-Control"] == "no-store"
    body: dict[str, Any] = await answer.json()
    assert set(body) == {"articles"}
    articles: list[dict[str, Any]] = body["articles"]
    return articles


async def _form_key(client: Client) -> str:
    page = await (await client.get("/tickets/new")).text()
    found = FORM_KEY.search(page)
    assert found, page[:300]
    return found.group(1)


async def _submit(client: Client, csrf: str, key: str, title: str) -> int:
    answer = await client.post(
        "/tickets/new",
        data={"csrf_token": csrf, "idempotency_key": key, "title": title, **FORM},
        allow_redirects=False,
    )
    assert answer.status == 303, await answer.text()
    return int(answer.headers["Location"].rsplit("/", 1)[1])


async def _stats(client: Client) -> dict[str, Any]:
    answer = await client.get("/api/admin/stats")
    assert answer.status == 200, await answer.text()
    body: dict[str, Any] = await answer.json()
    return body


async def test_suggestions_need_a_session_and_a_sane_query(make_web: MakeWeb) -> None:
    client = await make_web(**ON)
    assert (await client.get("/api/help/articles?query=vpn")).status == 401
    await signup(client, "ana@example.com")
    too_long = await client.get("/api/help/articles", params={"query": "v" * 201})
    assert too_long.status == 400
    assert (await too_long.json())["error"] == "bad_request"
    assert len(await _articles(client, "v" * 200)) == 0
    assert await _articles(client, "") == []
    assert await _articles(client, "vp") == []
    [vpn, *_] = await _articles(client, "vpn")
    assert set(vpn) == {"title", "snippet", "url"}
    assert vpn["title"] == "Como conectar à VPN da empresa"
    assert vpn["url"].startswith("http://127.0.0.1:")
    assert len(await _articles(client, "senha impressora celular vpn")) == 3


async def test_the_users_language_picks_the_portal_locale(make_web: MakeWeb) -> None:
    client = await make_web(**ON)
    csrf = await signup(client, "ann@example.com")
    await client.post("/locale", data={"csrf_token": csrf, "locale": "en", "next": "/"})
    [first, *_] = await _articles(client, "password")
    assert first["title"] == "Reset your network password"


async def test_feature_off_gives_an_empty_list_and_a_plain_form(make_web: MakeWeb) -> None:
    client = await make_web()
    await signup(client, "ana@example.com")
    assert await _articles(client, "vpn") == []
    page = await (await client.get("/tickets/new")).text()
    assert 'id="help-suggestions"' not in page and "help.js" not in page


async def test_counts_and_deflection_rate_for_admins_only(
    make_web: MakeWeb, sandbox: SandboxServer
) -> None:
    employee = await make_web(**ON)
    csrf = await signup(employee, "ana@example.com")
    assert (await employee.get("/api/admin/stats")).status == 403

    solved_key = await _form_key(employee)
    for query in ("vpn", "vpn c", "vpn caiu"):  # typing on: one round, counted once
        assert await _articles(employee, query, solved_key)
    resolved = await employee.post(
        "/api/help/resolved", json={"form": solved_key}, headers={"X-CSRF-Token": csrf}
    )
    assert resolved.status == 200 and (await resolved.json())["counted"] is True

    opened_key = await _form_key(employee)
    assert await _articles(employee, "impressora", opened_key)
    await _submit(employee, csrf, opened_key, "Impressora não imprime")
    # A ticket from a form that never saw a suggestion is not "after a suggestion".
    await _submit(employee, csrf, await _form_key(employee), "Cadeira quebrada")
    assert len(await _sandbox_conversations(sandbox)) == 2

    admin = await make_web(**ON)
    await signup(admin, "boss@example.com", name="Chefe")
    stats = await _stats(admin)
    assert stats["days"] == 30 and stats["helpCenterEnabled"] is True
    assert stats["suggestionsShown"] == 2
    assert stats["resolved"] == 1
    assert stats["ticketsAfterSuggestion"] == 1
    assert stats["deflectionRate"] == 0.5
    assert stats["bySurface"]["web"]["suggestionsShown"] == 2
    assert stats["bySurface"]["teams"] == {
        "suggestionsShown": 0,
        "resolved": 0,
        "ticketsAfterSuggestion": 0,
        "deflectionRate": None,
    }


async def test_resolved_refuses_bad_input_and_counts_only_shown_rounds(make_web: MakeWeb) -> None:
    client = await make_web(**ON)
    assert (await client.post("/api/help/resolved", json={"form": "k"})).status in (401, 403)
    csrf = await signup(client, "ana@example.com")
    headers = {"X-CSRF-Token": csrf}
    assert (await client.post("/api/help/resolved", json={"form": "k"})).status == 403
    bad = await client.post("/api/help/resolved", data=b"[", headers=headers)
    assert bad.status == 400
    for form in (None, "", "x" * 101, 7, "a\nb"):
        answer = await client.post("/api/help/resolved", json={"form": form}, headers=headers)
        assert answer.status == 422, form
    never_shown = await client.post("/api/help/resolved", json={"form": "k"}, headers=headers)
    assert (await never_shown.json())["counted"] is False


async def test_help_center_down_leaves_the_form_as_without_the_feature(
    make_web: MakeWeb, sandbox: SandboxServer
) -> None:
    client = await make_web(**ON)
    csrf = await signup(client, "ana@example.com")
    await _portal_fault(sandbox, http_status=500)
    assert await _articles(client, "vpn", "key-1") == []
    await _portal_fault(sandbox, delay_ms=5000)
    assert await _articles(client, "senha", "key-1") == []
    ticket_id = await _submit(client, csrf, "key-1", "VPN não conecta")
    ticket = await (await client.get(f"/api/conversations/{ticket_id}")).json()
    assert ticket["title"] == "VPN não conecta"
    assert len(await _sandbox_conversations(sandbox)) == 1


async def test_admin_stats_needs_a_session(make_web: MakeWeb) -> None:
    client = await make_web(**ON)
    assert (await client.get("/api/admin/stats")).status == 401
    assert await page_csrf(client)
