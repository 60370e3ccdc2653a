"""The soak's sandbox switches, driven against a real sandbox (no soak run needed)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.chatwoot.sandbox_support import Api
from tests.soak import behaviours
from tests.soak.ledger import Context, Plan, tokens_in


def sender(api: Api) -> behaviours.Send:
    """Return a ``Stack.sandbox_send`` twin aimed at the test's sandbox."""

    async def send(method: str, path: str, *, json: Any = None, data: Any = None) -> Any:
        url = f"{api.sb.url}/sandbox/api{path}"
        async with api.http.request(method, url, json=json, data=data) as r:
            return r.status, await r.json() if r.status == 200 else None

    return send


def test_switches_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    realistic = set(behaviours.BEHAVIOURS) - {"lock_to_single_conversation"}
    monkeypatch.delenv("SOAK_SANDBOX_BEHAVIOURS", raising=False)
    assert behaviours.from_env() == realistic  # make test's short run too
    monkeypatch.setenv("SOAK_SANDBOX_BEHAVIOURS", "realistic")
    assert behaviours.from_env() == realistic
    monkeypatch.setenv("SOAK_SANDBOX_BEHAVIOURS", "none")
    assert behaviours.from_env() == frozenset()
    monkeypatch.setenv("SOAK_SANDBOX_BEHAVIOURS", " markdown, deletes ")
    assert behaviours.from_env() == {"markdown", "deletes"}
    monkeypatch.setenv("SOAK_SANDBOX_BEHAVIOURS", "all")
    assert behaviours.from_env() == set(behaviours.BEHAVIOURS)
    monkeypatch.setenv("SOAK_SANDBOX_BEHAVIOURS", "markdown,snapshots-of-doom")
    with pytest.raises(ValueError, match="snapshots-of-doom"):
        behaviours.from_env()


async def test_every_reply_keeps_its_token_unless_deleted(api: Api) -> None:
    await api.contact()
    cid = int((await api.conversation())["id"])
    ctx = Context(Plan.short())
    on = frozenset(behaviours.BEHAVIOURS) - {"templates"}
    tokens = [ctx.token("A") for _ in range(60)]
    for token in tokens:
        assert await behaviours.reply(ctx, sender(api), on, cid, token, "Rita") == 200
    messages = api.sb.state.conversations[cid].messages
    deleted = [m for m in messages if m.content_attributes.get("deleted")]
    shown = {t for m in messages for t in tokens_in(m.content or "")}
    assert len(shown) + len(deleted) == len(tokens)
    assert any("\\\n" in (m.content or "") for m in messages)  # dashboard hard breaks
    assert any(m.attachments for m in messages)
    assert any(m.content_type == "input_select" for m in messages)
    assert deleted and all(m.attachments == [] for m in deleted)
    assert any("(corrigida)" in (m.content or "") for m in messages)


async def test_no_switch_posts_plain_replies(api: Api) -> None:
    await api.contact()
    cid = int((await api.conversation())["id"])
    ctx = Context(Plan.short())
    for _ in range(5):
        token = ctx.token("A")
        assert await behaviours.reply(ctx, sender(api), frozenset(), cid, token, "Rita") == 200
    contents = [m.content for m in api.sb.state.conversations[cid].messages]
    assert all(c and c.startswith("Resposta A") and c.endswith("de Rita.") for c in contents)


async def test_control_switches_turn_on_settings_auto_assignment_and_late_snapshots(
    api: Api,
) -> None:
    await behaviours.switch_sandbox(sender(api), frozenset())
    assert (await api.control("GET", "/inbox"))[1]["enable_auto_assignment"] is False
    await behaviours.switch_sandbox(sender(api), frozenset(behaviours.BEHAVIOURS))
    _, settings = await api.control("GET", "/inbox")
    assert settings["enable_auto_assignment"] and settings["lock_to_single_conversation"]
    assert (await api.control("GET", "/switches"))[1]["late_snapshots"] is True
    _, agents = await api.control("GET", "/agents")
    assert [a["availability"] for a in agents] == ["online"]
