"""The sandbox's Help Center: Chatwoot's public article routes and shapes, and its control API."""

from __future__ import annotations

import httpx

from sandbox import SandboxServer
from sandbox.portal import DEFAULT_PORTAL_SLUG

HC = f"/hc/{DEFAULT_PORTAL_SLUG}"


async def test_search_answers_chatwoots_shape(sandbox: SandboxServer) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        answer = await http.get(f"{HC}/pt_BR/articles.json", params={"query": "vpn"})
        assert answer.status_code == 200
        body = answer.json()
        assert set(body) == {"payload", "meta"}
        assert body["meta"] == {"articles_count": len(body["payload"])}
        first = body["payload"][0]
        assert set(first) == {"id", "category_id", "title", "content", "link"}
        assert first["title"] == "Como conectar à VPN da empresa"
        assert first["link"].startswith(f"{HC}/articles/")
        # With a query, content is a plain snippet of at most ~220 characters.
        assert 0 < len(first["content"]) <= 230 and "\n" not in first["content"]

        everything = (await http.get(f"{HC}/en/articles.json")).json()
        assert len(everything["payload"]) == 4
        assert {"description", "status", "account_id", "views", "author"} <= set(
            everything["payload"][0]
        )
        assert all(a["status"] == "published" for a in everything["payload"])

        paged = (await http.get(f"{HC}/en/articles.json", params={"per_page": 2, "page": 2})).json()
        assert len(paged["payload"]) == 2 and paged["meta"]["articles_count"] == 4

        markdown = await http.get(first["link"] + ".md")
        assert markdown.status_code == 200 and "GlobalProtect" in markdown.text
        assert (await http.get("/hc/other/pt_BR/articles.json")).status_code == 404
        assert (await http.get(f"{HC}/articles/nope")).status_code == 404


async def test_search_wants_every_word_like_chatwoots_pg_search(sandbox: SandboxServer) -> None:
    async def titles(query: str, locale: str = "pt_BR") -> list[str]:
        async with httpx.AsyncClient(base_url=sandbox.url) as http:
            answer = await http.get(f"{HC}/{locale}/articles.json", params={"query": query})
            return [item["title"] for item in answer.json()["payload"]]

    assert await titles("VPN") == ["Como conectar à VPN da empresa", "Redefinir a senha de rede"]
    assert await titles("vpn conect") == ["Como conectar à VPN da empresa"]  # word prefixes
    assert await titles("VPN cai toda hora") == []  # "toda" and "hora" are in no article
    assert await titles("impressora não imprime") == ["Impressora não imprime: o que verificar"]
    assert await titles("impressora nao imprime") == []  # the simple configuration keeps accents
    assert await titles("printer", "en") == ["Printer not printing: what to check"]


async def test_the_article_page_escapes_what_was_written(sandbox: SandboxServer) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        created = await http.post(
            "/sandbox/api/portal/articles",
            json={"title": "<b>Wi-Fi</b> lento", "content": "<script>x()</script>", "locale": "pt"},
        )
        assert created.status_code == 201
        record = created.json()
        assert record["locale"] == "pt" and record["title"] == "<b>Wi-Fi</b> lento"
        page = await http.get(record["link"])
        assert "<script>x()</script>" not in page.text
        assert "&lt;script&gt;" in page.text
        listed = (await http.get("/sandbox/api/portal/articles")).json()
        assert len(listed) == 9


async def test_control_api_refuses_bad_articles_and_faults(sandbox: SandboxServer) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url + "/sandbox/api/portal") as http:
        for body, attribute in (
            ({"content": "x", "locale": "en"}, "title"),
            ({"title": "T", "content": " ", "locale": "en"}, "content"),
            ({"title": "T", "content": "x", "locale": "pt-BR"}, "locale"),
            ({"title": "T", "content": "x", "locale": "en", "description": 3}, "description"),
        ):
            answer = await http.post("/articles", json=body)
            assert answer.status_code == 422, body
            assert answer.json()["attributes"] == [attribute]
        # JSON-labelled bodies that are not a JSON object (unlabelled ones get 415 first).
        as_json = {"Content-Type": "application/json"}
        assert (await http.post("/articles", content=b"[1]", headers=as_json)).status_code == 400
        assert (await http.post("/articles", content=b"{nope", headers=as_json)).status_code == 400
        assert (await http.post("/articles", content=b"{}")).status_code == 415
        assert (await http.post("/faults", json={"http_status": 200})).status_code == 422
        assert (await http.post("/faults", json={"delay_ms": -1})).status_code == 422
        set_fault = await http.post("/faults", json={"http_status": 500})
        assert set_fault.json() == {"http_status": 500, "delay_ms": 0, "disabled": False}
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        failing = await http.get(f"{HC}/en/articles.json", params={"query": "vpn"})
        assert failing.status_code == 500
        # The Client API is not touched by the Help Center's faults.
        inbox = await http.get(f"/public/api/v1/inboxes/{sandbox.config.inbox_identifier}")
        assert inbox.status_code == 200
        await http.post("/sandbox/api/portal/faults", json={})
        assert (await http.get(f"{HC}/en/articles.json")).status_code == 200
