"""First run: `tickets serve` with nothing configured starts everything and says where to go."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.first_run import problems, serving


async def test_first_run_banner_names_every_place_to_go_and_each_answers(tmp_path: Path) -> None:
    async with serving(tmp_path) as served:
        web_page = served.value("página web / web page")
        console = served.value("console do agente / agent console")
        bot = served.value("endpoint do bot / bot endpoint")
        assert web_page == f"{served.base}/"
        assert console == f"http://127.0.0.1:{served.sandbox_port}/sandbox/"
        assert bot == f"{served.base}/api/messages"
        assert served.value("testar o bot / try the bot").startswith("make playground")
        assert served.banner[0] == f"Tickets for Teams: {served.base}"
        database = served.value("banco / database")
        assert database.startswith("postgresql://postgres@127.0.0.1:")
        # The generated webhook token and the database password are not printed.
        assert "?token=" in served.value("webhook")
        assert served.value("webhook").endswith("?token=********")
        async with httpx.AsyncClient(timeout=30, follow_redirects=True) as http:
            assert (await http.get(web_page)).status_code == 200
            assert (await http.get(console)).status_code == 200
            assert (await http.get(f"{served.base}/readyz")).status_code == 200
    assert served.process.returncode == 0
    assert problems(served) == []
    # Data stays in the folder the newcomer ran it from, password kept private.
    assert (tmp_path / ".tickets" / "pg-password").exists()
