"""Switches that make the soak's sandbox behave like more of real Chatwoot.

``SOAK_SANDBOX_BEHAVIOURS`` names some of ``BEHAVIOURS`` (comma-separated, ``all``,
``realistic`` or ``none``); unset, ``realistic`` is on (every behaviour but the
single-conversation lock), in ``make test``'s short run as in ``make soak``.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from tests.chatwoot.sandbox_support import png_bytes
from tests.soak.ledger import Context

# ``Stack.sandbox_send``: (method, path, json=..., data=...) -> (status, answer).
Send = Callable[..., Awaitable[tuple[int, Any]]]

BEHAVIOURS = (
    "markdown",
    "attachments",
    "questions",
    "edits",
    "deletes",
    "templates",
    "auto_assignment",
    "lock_to_single_conversation",
    "late_snapshots",
)
# The switches that are one control call at the start of the run.
_CONTROL_CALLS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "auto_assignment": [
        ("POST", "/agents", {"name": "Soak Auto Agent"}),
        ("PATCH", "/inbox", {"enable_auto_assignment": True}),
    ],
    "lock_to_single_conversation": [("PATCH", "/inbox", {"lock_to_single_conversation": True})],
    "late_snapshots": [("PATCH", "/switches", {"late_snapshots": True})],
}


# What a real Chatwoot does by default or commonly. The lock is left out: with it every
# employee's second ticket is refused, by design.
REALISTIC = frozenset(BEHAVIOURS) - {"lock_to_single_conversation"}
DEFAULT: frozenset[str] = REALISTIC


def from_env() -> frozenset[str]:
    """Read the switches (unset: ``DEFAULT``; ``none``: plain); an unknown name stops the run."""
    raw = os.environ.get("SOAK_SANDBOX_BEHAVIOURS")
    if raw is None:
        return DEFAULT
    names = {n.strip() for n in raw.split(",")}
    names.discard("")
    if "none" in names:
        return frozenset()
    if "all" in names:
        return frozenset(BEHAVIOURS)
    if "realistic" in names:
        return REALISTIC
    unknown = names - set(BEHAVIOURS)
    if unknown:
        raise ValueError(f"unknown SOAK_SANDBOX_BEHAVIOURS: {', '.join(sorted(unknown))}")
    return frozenset(names)


async def switch_sandbox(send: Send, on: frozenset[str]) -> None:
    """Turn on the inbox settings and switches the run names (auto-assignment, lock, late)."""
    for name in sorted(on & set(_CONTROL_CALLS)):
        for method, path, body in _CONTROL_CALLS[name]:
            status, _ = await send(method, path, json=body)
            if status != 200:
                raise RuntimeError(f"sandbox {method} {path} for {name} answered {status}")


async def switch_inbox_templates(send: Send) -> int:
    """Turn on the greeting and the CSAT survey, as many real inboxes have them."""
    status, _ = await send(
        "PATCH",
        "/inbox",
        json={
            "greeting_enabled": True,
            "greeting_message": "Olá! Recebemos seu chamado.",
            "csat_survey_enabled": True,
        },
    )
    return status


async def reply(
    ctx: Context, send: Send, on: frozenset[str], cid: int, token: str, name: str
) -> int:
    """Post one agent reply carrying ``token``, shaped by the switches; return the status."""
    path = f"/conversations/{cid}/messages"
    text = f"Resposta {token} de {name}."
    if "markdown" in on:
        # What the dashboard stores for a Shift+Enter line break and its trailing paragraph.
        text = f"Resposta {token}\\\nde {name}.\n\n"
    # Draw only when a switch is on, so the default run keeps its random sequence.
    roll = ctx.rng.random() if on else 1.0
    if "questions" in on and roll < 0.2:
        items = [{"title": "Sim", "value": "sim"}, {"title": "Não", "value": "nao"}]
        status, sent = await send(
            "POST",
            path,
            json={
                "content": f"Pergunta {token}: resolveu?",
                "message_type": "template",
                "content_type": "input_select",
                "content_attributes": {"items": items},
            },
        )
    elif "attachments" in on and roll < 0.5:
        form = aiohttp.FormData()
        form.add_field("content", text)
        form.add_field("agent", name)
        # The file's own token in its name: the audit counts files like messages.
        file_token = ctx.token("F")
        ctx.ledger.files[file_token] = token
        filename = f"tela-{file_token}.png"
        form.add_field("attachments", png_bytes(), filename=filename, content_type="image/png")
        status, sent = await send("POST", path, data=form)
    else:
        status, sent = await send(
            "POST", path, json={"content": text, "private": False, "agent": name}
        )
    if status == 200 and isinstance(sent, dict):
        await _maybe_change(ctx, send, on, f"{path}/{sent['id']}", token)
    return status


async def _maybe_change(
    ctx: Context, send: Send, on: frozenset[str], path: str, token: str
) -> None:
    roll = ctx.rng.random() if on else 1.0
    if "edits" in on and roll < 0.1:
        # The edited text keeps the token, so the audit still expects it once per channel.
        await send("PATCH", path, json={"content": f"Resposta {token} (corrigida)."})
    elif "deletes" in on and roll < 0.15:
        # A deleted reply leaves the record of truth: the audit no longer expects its token,
        # and checks it is shown nowhere.
        status, _ = await send("DELETE", path)
        if status == 200:
            ctx.ledger.deleted.add(token)
