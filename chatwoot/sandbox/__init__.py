"""A faithful local stand-in for Chatwoot (Client API, ``/cable``, webhooks, agent console)."""

from chatwoot.sandbox.config import SandboxConfig
from chatwoot.sandbox.server import SandboxServer, create_sandbox_app, run_sandbox

__all__ = ["SandboxConfig", "SandboxServer", "create_sandbox_app", "run_sandbox"]
