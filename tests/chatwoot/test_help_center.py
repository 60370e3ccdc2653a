"""The Help Center client against the sandbox portal: search, locales, cache, silent degrade."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from chatwoot.help import HelpCenter, keywords
from sandbox import SandboxServer
from sandbox.portal import DEFAULT_PORTAL_SLUG


class Clock:
    """A clock the test moves by hand, so cache and pause expiry need no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A hand-moved clock."""
    return Clock()


@pytest.fixture
async def center(sandbox: SandboxServer, clock: Clock) -> AsyncIterator[HelpCenter]:
    """A Help Center client on the sandbox's default portal with a short timeout."""
    client = HelpCenter(sandbox.url, DEFAULT_PORTAL_SLUG, timeout=0.5, clock=clock)
    yield client
    await client.aclose()


async def _portal(control: httpx.AsyncClient, path: str, body: dict[str, Any]) -> Any:
    answer = await control.post(f"/portal/{path}", json=body)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


async def test_vpn_finds_the_vpn_article_in_each_language(
    center: HelpCenter, sandbox: SandboxServer
) -> None:
    [first, *_] = await center.search("vpn", "pt-BR")
    assert first.title == "Como conectar à VPN da empresa"
    assert first.url.startswith(f"{sandbox.url}/hc/{DEFAULT_PORTAL_SLUG}/articles/")
    assert "VPN" in first.snippet and len(first.snippet) <= 220
    [english, *_] = await center.search("  VPN  ", "en")
    assert english.title == "How to connect to the company VPN"
    # The article link opens the article page.
    async with httpx.AsyncClient() as http:
        page = await http.get(first.url)
    assert page.status_code == 200 and "Como conectar à VPN da empresa" in page.text


async def test_ranks_title_matches_first_and_keeps_three(center: HelpCenter) -> None:
    found = await center.search("impressora não imprime", "pt-BR")
    assert found[0].title == "Impressora não imprime: o que verificar"
    assert len(await center.search("senha e-mail celular vpn impressora", "pt-BR", limit=3)) == 3
    assert await center.search("xyzzy", "pt-BR") == []


async def test_a_sentence_is_asked_again_by_its_telling_words(center: HelpCenter) -> None:
    assert keywords("A VPN cai toda hora desde ontem") == ["vpn", "cai"]
    assert keywords("Impressora do 2º andar não imprime") == ["impressora", "imprime", "andar"]
    # The whole title matches no article (Chatwoot wants every word); its words do.
    [first, *_] = await center.search("A VPN cai toda hora", "pt-BR")
    assert first.title == "Como conectar à VPN da empresa"
    [first, *_] = await center.search("My printer is not printing anything", "en")
    assert first.title == "Printer not printing: what to check"


async def test_short_queries_ask_nothing(center: HelpCenter, control: httpx.AsyncClient) -> None:
    await _portal(control, "faults", {"http_status": 500})
    # Under three characters the portal is not even asked, so the fault is not noticed either.
    assert await center.search(" vp ", "pt-BR") == []
    await _portal(control, "faults", {})
    assert await center.search("vpn", "pt-BR") != []


async def test_pt_br_falls_back_to_the_portals_plain_pt_articles(
    center: HelpCenter, control: httpx.AsyncClient
) -> None:
    await _portal(
        control,
        "articles",
        {"title": "Acesso ao ponto eletrônico", "content": "Registre o ponto.", "locale": "pt"},
    )
    [found] = await center.search("ponto eletrônico", "pt-BR")
    assert found.title == "Acesso ao ponto eletrônico"
    assert await center.search("ponto eletrônico", "en") == []


async def test_results_are_cached_briefly_per_query(
    center: HelpCenter, control: httpx.AsyncClient, clock: Clock
) -> None:
    assert await center.search("teclado", "en") == []
    await _portal(
        control,
        "articles",
        {"title": "Keyboard not typing", "content": "Check the USB cable.", "locale": "en"},
    )
    # The same query (any case) is answered from the cache for a minute...
    assert await center.search("TECLADO", "en") == []
    assert [a.title for a in await center.search("keyboard", "en")] == ["Keyboard not typing"]
    clock.now += 61
    await _portal(
        control,
        "articles",
        {"title": "Teclado sem resposta", "content": "Troque as pilhas.", "locale": "en"},
    )
    assert [a.title for a in await center.search("teclado", "en")] == ["Teclado sem resposta"]


@pytest.mark.parametrize(
    "fault", [{"http_status": 500}, {"http_status": 403}, {"disabled": True}, {"delay_ms": 3000}]
)
async def test_failures_become_no_articles_quickly(
    center: HelpCenter, control: httpx.AsyncClient, fault: dict[str, Any]
) -> None:
    await _portal(control, "faults", fault)
    started = time.perf_counter()
    assert await center.search("vpn", "pt-BR") == []
    # Two locales at most, each bounded by the 0.5 s timeout: never the 3 s delay.
    assert time.perf_counter() - started < 2.0


async def test_after_a_failure_the_portal_is_left_alone_for_a_while(
    center: HelpCenter, control: httpx.AsyncClient, clock: Clock
) -> None:
    await _portal(control, "faults", {"http_status": 503})
    assert await center.search("vpn", "pt-BR") == []
    await _portal(control, "faults", {})
    assert await center.search("senha", "pt-BR") == []  # paused: not asked
    clock.now += 16
    [found, *_] = await center.search("senha", "pt-BR")
    assert found.title == "Redefinir a senha de rede"


async def test_an_unknown_portal_is_no_articles(sandbox: SandboxServer) -> None:
    client = HelpCenter(sandbox.url, "nope", timeout=0.5)
    try:
        assert await client.search("vpn", "pt-BR") == []
    finally:
        await client.aclose()
