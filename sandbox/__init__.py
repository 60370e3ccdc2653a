"""A faithful local stand-in for Chatwoot (Client API, ``/cable``, webhooks, agent console)."""

from sandbox.app import SandboxServer, create_sandbox_app, run_sandbox
from sandbox.config import SandboxConfig

__all__ = ["SandboxConfig", "SandboxServer", "create_sandbox_app", "run_sandbox"]
