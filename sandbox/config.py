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
    # Where the records live across restarts (a folder); None keeps them in memory only.
    state_dir: str | None = None
    # The inbox's first settings. Chatwoot's default is on; the library default is off so that
    # tests opt in (the composition root turns it on for `tickets serve`/`tickets sandbox`).
    enable_auto_assignment: bool = False
    # Agents that exist (online) from the start, so auto-assignment has someone to pick.
    agents: tuple[str, ...] = ()
    # Job-time snapshots with jittered, unordered delivery (see the README).
    late_snapshots: bool = False
    snapshot_jitter_ms: int = 300
    # The Application API's `api_access_token`; None: every Application API call is refused.
    api_access_token: str | None = None
    # Log each request (identifiers redacted); off by default.
    access_log: bool = False
