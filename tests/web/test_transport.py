"""Transport security: browsers are told to keep to https when the service is public."""

from __future__ import annotations

from tests.bot.harness import APP_ID, APP_PASSWORD, TENANT
from tests.web.conftest import Client, MakeWeb

BOT_IDENTITY = {
    "MICROSOFT_APP_ID": APP_ID,
    "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
    "MICROSOFT_APP_TENANT_ID": TENANT,
}


async def test_an_https_public_url_sends_hsts_on_every_answer(make_web: MakeWeb) -> None:
    client = await make_web(PUBLIC_URL="https://tickets.example.com", **BOT_IDENTITY)
    for path in ("/login", "/", "/static/app.css", "/healthz", "/no-such-page", "/api/session"):
        response = await client.get(path, allow_redirects=False)
        hsts = response.headers.get("Strict-Transport-Security", "")
        assert hsts.startswith("max-age="), (path, dict(response.headers))
        assert int(hsts.split("=", 1)[1].split(";")[0]) >= 31536000


async def test_plain_http_sends_no_hsts(web_client: Client) -> None:
    response = await web_client.get("/login")
    assert response.status == 200
    assert "Strict-Transport-Security" not in response.headers
