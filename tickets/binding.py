"""Refuse to start against another Chatwoot or inbox than the one this database belongs to."""

from __future__ import annotations

from db import binding
from db.engine import make_engine, make_sessionmaker
from tickets.settings import Settings, SettingsError

# The bundled sandbox moves with SANDBOX_PORT; its records live beside the database.
SANDBOX = "sandbox"


async def check_helpdesk_binding(settings: Settings, *, sandbox: bool) -> None:
    """Store this database's Chatwoot and inbox on first start; raise SettingsError on a switch."""
    assert settings.DATABASE_URL is not None
    base = SANDBOX if sandbox else settings.CHATWOOT_BASE_URL.rstrip("/")
    inbox = settings.CHATWOOT_INBOX_IDENTIFIER
    engine = make_engine(settings.DATABASE_URL, pool_size=1)
    try:
        async with make_sessionmaker(engine).begin() as session:
            stored = await binding.bind(session, base, inbox)
    finally:
        await engine.dispose()
    if stored != (base, inbox):
        raise SettingsError(
            f"this database belongs to Chatwoot {stored[0]} inbox {stored[1]}, not {base} inbox "
            f"{inbox}: its tickets name that helpdesk's conversations. Point CHATWOOT_BASE_URL "
            "and CHATWOOT_INBOX_IDENTIFIER back, or use another database (DATABASE_URL/DATA_DIR)"
        )
