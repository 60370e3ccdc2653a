"""Agent Markdown becomes styled spans; nothing is ever markup, only http(s) becomes a link."""

from __future__ import annotations

from tickets.markdown import spans


def test_bold_italics_code_and_links_become_spans() -> None:
    got = spans(
        "Use **Ctrl+Alt+Del**, then _Sair_; run `ipconfig` or see [o guia](https://ti.example/vpn)."
    )
    assert got == [
        {"text": "Use "},
        {"text": "Ctrl+Alt+Del", "bold": True},
        {"text": ", then "},
        {"text": "Sair", "italic": True},
        {"text": "; run "},
        {"text": "ipconfig", "code": True},
        {"text": " or see "},
        {"text": "o guia", "href": "https://ti.example/vpn"},
        {"text": " (https://ti.example/vpn)"},
        {"text": "."},
    ]


def test_bare_urls_are_links_and_nothing_else_is() -> None:
    got = spans("<script>alert(1)</script> [x](javascript:alert(1)) https://a.example/p?q=1.")
    links = [span["href"] for span in got if "href" in span]
    assert links == ["https://a.example/p?q=1"]
    assert "".join(span["text"] for span in got).startswith("<script>alert(1)</script> [x](")


def test_plain_text_and_line_breaks_stay_one_span() -> None:
    assert spans("linha 1\nlinha 2 - snake_case_name") == [
        {"text": "linha 1\nlinha 2 - snake_case_name"}
    ]
