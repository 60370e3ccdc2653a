"""Template messages (greeting, CSAT, bot questions) are authored by the inbox that sent them."""

from __future__ import annotations

from typing import Any

from db.models import Origin
from sandbox import SandboxServer
from tests.helpdesk import (
    Client,
    control,
    form,
    make_ticket,
    new_user,
    payload,
    post_hook,
    state,
)
from tests.waiting import eventually
from tickets import keys

TEMPLATE = "message_created.template_no_sender.json"


async def test_a_template_from_chatwoot_shows_the_inbox_as_its_author(
    app_client: Client, sandbox: SandboxServer
) -> None:
    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    info = await service.open_ticket(user_id, form(), origin=Origin.WEB)
    await control(
        sandbox,
        f"conversations/{info.chatwoot_conversation_id}/messages",
        {"content": "Resolveu?", "message_type": "template"},
    )

    async def authored() -> list[Any]:
        timeline = await service.timeline(user_id, info.id)
        return [i.to_json()["author"] for i in timeline if i.content == "Resolveu?"]

    async def named() -> bool:
        # Whichever copy came first (the cable has no inbox name), the webhook's names it.
        return await authored() == [sandbox.config.inbox_name]

    await eventually(named)


async def test_a_templates_nameless_copy_is_named_by_its_webhook(app_client: Client) -> None:
    ticket = await make_ticket(app_client)
    webhook = payload(TEMPLATE)
    nameless = {key: value for key, value in webhook.items() if key != "inbox"}
    nameless["inbox_id"] = webhook["inbox"]["id"]
    status, body = await post_hook(app_client, nameless)
    assert (status, body["outcomes"]) == (200, ["stored"])
    _, [message], _ = await state(app_client, ticket.id)
    assert message.author == ""
    status, body = await post_hook(app_client, webhook)
    assert (status, body["outcomes"]) == (200, ["duplicate"])
    _, [message], _ = await state(app_client, ticket.id)
    assert message.author == "IT Helpdesk"
    # A later copy never renames it.
    renamed = {**webhook, "inbox": {**webhook["inbox"], "name": "Other"}}
    await post_hook(app_client, renamed)
    _, [message], _ = await state(app_client, ticket.id)
    assert message.author == "IT Helpdesk"
