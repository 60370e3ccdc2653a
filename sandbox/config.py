"""Sandbox configuration."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SandboxConfig:
    """Describe the one API-channel inbox (and account) the sandbox pretends to be."""

    # The brief calls this 24 chars; it is 25. Kept verbatim because other code may hard-code it.
    inbox_identifier: str = "sandboxinbox0000000000001"
    inbox_id: int = 1
    account_id: int = 1
    inbox_name: str = "Chamados"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    # Base of attachment URLs (Chatwoot's FRONTEND_URL); None: the URL the server is bound to.
    frontend_url: str | None = None
    ping_interval: float = 3.0
    account_name: str = "Sandbox"
    foreign_inbox_identifier: str = "foreigninbox000000000002"
    foreign_inbox_name: str = "Other inbox"
