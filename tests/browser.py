"""Debian's Chromium for the browser tests: where it is and the flags that keep it offline."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
# No DNS except localhost and no background traffic: the machine has no network, and Chromium
# otherwise keeps asking for component updates (tools/README §0).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
]
