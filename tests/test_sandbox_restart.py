"""`make run`, open a ticket, stop, `make run` again: the old ticket and a new one both work."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from tests.first_run import problems, serving

META_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
FORM_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(page: str) -> str:
    found = META_CSRF.search(page) or FORM_CSRF.search(page)
    assert found, page[:500] or "(empty page)"
    return found.group(1)


async def _sign_in(http: httpx.AsyncClient, *, first: bool) -> None:
    # A sign-up does not sign in (the address is unverified); the login that follows does.
    for path in ("/signup", "/login") if first else ("/login",):
        page = await http.get(path)
        data = {"csrf_token": _csrf(page.text), "email": "ana@example.com"}
        data["password"] = "correct horse battery"
        if path == "/signup":
            data["name"] = "Ana Souza"
        answer = await http.post(path, data=data)
        assert answer.status_code == 303, answer.text[:500]


async def _open_ticket(http: httpx.AsyncClient, title: str) -> int:
    page = await http.get("/tickets/new")
    assert page.status_code == 200, (page.status_code, page.headers.get("Location"))
    answer = await http.post(
        "/tickets/new",
        data={
            "csrf_token": _csrf(page.text),
            "title": title,
            "description": "Não liga / won't start",
            "complexity": "baixa",
            "sector": "TI",
        },
    )
    assert answer.status_code == 303, answer.text[:800]
    return int(answer.headers["Location"].rsplit("/", 1)[1])


async def _reply(http: httpx.AsyncClient, ticket: int, content: str) -> None:
    page = await http.get(f"/tickets/{ticket}")
    answer = await http.post(
        f"/tickets/{ticket}", data={"csrf_token": _csrf(page.text), "content": content}
    )
    assert answer.status_code == 303
    assert "error" not in answer.headers["Location"], answer.headers["Location"]


async def _conversations(sandbox: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{sandbox}/sandbox/api/conversations")
        assert answer.status_code == 200
        result: list[dict[str, Any]] = answer.json()
        return result


async def test_tickets_keep_working_across_a_restart(tmp_path: Path) -> None:
    async with serving(tmp_path) as served:
        sandbox = f"http://127.0.0.1:{served.sandbox_port}"
        async with httpx.AsyncClient(base_url=served.base, timeout=30) as http:
            await _sign_in(http, first=True)
            old = await _open_ticket(http, "Notebook não liga")
            await _reply(http, old, "Primeira mensagem")
            before = await _conversations(sandbox)
    assert problems(served) == []
    async with serving(tmp_path) as again:
        sandbox = f"http://127.0.0.1:{again.sandbox_port}"
        async with httpx.AsyncClient(base_url=again.base, timeout=30) as http:
            await _sign_in(http, first=False)
            await _reply(http, old, "Depois do reinício / after the restart")
            new = await _open_ticket(http, "Impressora travada")
            after = await _conversations(sandbox)
    assert problems(again) == []
    assert new != old
    (kept,) = [c for c in after if c["id"] == before[0]["id"]]
    texts = [m["content"] for m in kept["messages"] if m["message_type"] == "incoming"]
    assert texts[-2:] == ["Primeira mensagem", "Depois do reinício / after the restart"]
    assert len(after) == len(before) + 1
    assert max(c["id"] for c in after) > max(c["id"] for c in before)  # ids never repeat
