"""Check before start-up that the ports `tickets serve` needs are free, naming what moves them."""

from __future__ import annotations

import errno
import socket

from tickets.settings import Settings


class PortBusyError(Exception):
    """A port the service needs is taken; the message is one line naming the setting."""


def port_error(exc: OSError, port: int, setting: str) -> OSError | PortBusyError:
    """Turn 'address already in use' into the one-line error; leave other errors alone."""
    if exc.errno != errno.EADDRINUSE:
        return exc
    return PortBusyError(
        f"port {port} is already in use: set {setting} to another port "
        "(another `make run` or `tickets serve` may still be running)"
    )


def _probe(host: str, port: int, setting: str) -> None:
    try:
        # SO_REUSEADDR like the real listener, so a port in TIME_WAIT does not count as busy.
        with socket.create_server((host, port), reuse_port=False):
            pass
    except OSError as exc:
        raise port_error(exc, port, setting) from None


def check_ports(settings: Settings) -> None:
    """Raise PortBusyError when the service's port (or the sandbox's) is taken."""
    _probe(settings.HOST, settings.PORT, "PORT")
    if settings.sandbox_mode:
        if settings.SANDBOX_PORT == settings.PORT:
            raise PortBusyError(
                f"port {settings.PORT} is both PORT and SANDBOX_PORT: set SANDBOX_PORT to another"
            )
        _probe("127.0.0.1", settings.SANDBOX_PORT, "SANDBOX_PORT")
