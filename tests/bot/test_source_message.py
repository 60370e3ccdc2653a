"""A Teams message body turned into the plain text a ticket keeps."""

from __future__ import annotations

from datetime import UTC, datetime

from botbuilder.schema import Activity

from bot.source_message import Place, html_to_text, parse_source


def group_chat(name: str | None = "Suporte") -> Activity:
    return Activity().deserialize(
        {
            "type": "invoke",
            "channelId": "msteams",
            "conversation": {"id": "19:g@thread.v2", "conversationType": "groupChat", "name": name},
            "channelData": {"tenant": {"id": "t"}},
        }
    )


def test_html_becomes_lines_with_mentions_resolved() -> None:
    html = (
        '<div><p>Oi <at id="0">Sup</at> e <at id="1">Bot</at>,</p>'
        "<p>a VPN &amp; o Wi&#8209;Fi caem.</p><ul><li>desde ontem</li><li>no 2º andar</li></ul>"
        '<p>Veja <a href="https://status.example/vpn">o status</a> ou https://x.example</p>'
        '<img alt="🙂" src="https://x/e.png"><script>alert(1)</script></div>'
    )
    text = html_to_text(html, {"0": "Carla Dias", "1": "Alertas"})
    assert text == (
        "Oi Carla Dias e Alertas,\n\n"
        "a VPN & o Wi\u2011Fi caem.\n\n"
        "• desde ontem\n"
        "• no 2º andar\n\n"
        "Veja o status (https://status.example/vpn) ou https://x.example\n"
        "🙂"
    )


def test_a_link_showing_its_own_target_is_not_repeated_and_javascript_is_dropped() -> None:
    html = (
        '<a href="https://a.example/x">https://a.example/x</a> '
        '<a href="javascript:alert(1)">clique</a>'
    )
    assert html_to_text(html) == "https://a.example/x clique"


def test_payload_fields_are_read_defensively() -> None:
    value = {
        "messagePayload": {
            "id": "1741194420000",
            "createdDateTime": "2025-03-05T17:07:00.000Z",
            "linkToMessage": "javascript:alert(1)",
            "body": {"contentType": "text", "content": "  linha 1  \r\n\r\n\r\n linha 2 "},
            "from": {"application": {"id": "app", "displayName": "Alertas  Zabbix"}},
        }
    }
    source = parse_source(value, group_chat())
    assert source is not None
    assert source.text == "linha 1\n\nlinha 2"
    assert (source.author_name, source.author_oid) == ("Alertas Zabbix", None)
    assert source.created_at == datetime(2025, 3, 5, 17, 7, tzinfo=UTC)
    assert source.link is None
    assert source.place == Place("groupChat", "Suporte")


def test_missing_or_malformed_payloads() -> None:
    assert parse_source({}, group_chat()) is None
    source = parse_source(
        {"messagePayload": {"body": "oops", "from": None, "createdDateTime": "ontem"}},
        group_chat(None),
    )
    assert source is not None
    assert (source.id, source.text, source.author_name, source.created_at) == (None, "", None, None)
    assert source.place == Place("groupChat", None)
