"""Files an employee sends the bot: read from the activity, downloaded bounded and streamed.

Teams sends a pasted picture as an attachment whose ``contentUrl`` needs the bot's token, and a
file (with ``supportsFiles`` in the manifest) as a ``file.download.info`` attachment whose
``downloadUrl`` is pre-authorised. The HTML copy of the message that comes with a picture is
not a file.
"""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from tickets.uploads import CHUNK, Spool, UploadRefused, clean_name

log = logging.getLogger(__name__)
FILE_DOWNLOAD = "application/vnd.microsoft.teams.file.download.info"
DOWNLOAD_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class DownloadFailed(Exception):
    """Teams did not give us the file's bytes."""


@dataclass(frozen=True)
class IncomingFile:
    """One file of an activity: where to fetch it and whether the bot's token is needed."""

    name: str
    url: str
    content_type: str
    needs_token: bool


# Hosts that may receive the bot's token with a picture's download (besides the turn's own
# service URL): the Bot Framework's and Teams' own.
TOKEN_HOSTS = (".botframework.com", ".trafficmanager.net", ".teams.microsoft.com")


def token_host(url: str, service_url: str | None) -> bool:
    """Tell whether a picture's URL may be sent the bot's token (never to a foreign host)."""
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        return False
    if service_url and host == (urlsplit(service_url).hostname or "").lower():
        return True
    return host.endswith(TOKEN_HOSTS)


def incoming_files(
    attachments: list[Any] | None, service_url: str | None = None
) -> list[IncomingFile]:
    """Return the files of a message's attachments (cards and the HTML copy are left out)."""
    found: list[IncomingFile] = []
    for index, attachment in enumerate(attachments or [], start=1):
        kind = str(getattr(attachment, "content_type", "") or "")
        content = getattr(attachment, "content", None)
        name = clean_name(getattr(attachment, "name", None))
        if kind == FILE_DOWNLOAD and isinstance(content, dict):
            url = content.get("downloadUrl")
            if (isinstance(url, str) and url.startswith("https://")) or _local(url):
                guessed = mimetypes.guess_type(name, strict=False)[0] or ""
                found.append(IncomingFile(name, str(url), guessed, needs_token=False))
        elif kind.startswith("image/") and getattr(attachment, "content_url", None):
            extension = mimetypes.guess_extension(kind) or ".png"
            picture = name or f"imagem-{index}{extension}"
            url = str(attachment.content_url)
            found.append(IncomingFile(picture, url, kind, token_host(url, service_url)))
    return found


def _local(url: object) -> bool:
    # The local playground and the tests serve files over plain http on the loopback.
    return isinstance(url, str) and url.startswith(("http://127.0.0.1:", "http://localhost:"))


async def download(
    http: httpx.AsyncClient, file: IncomingFile, spool: Spool, token: str | None
) -> None:
    """Stream one file into the spool: size checked as it arrives, a timeout, no redirects out.

    Raises UploadRefused for a file past the limits, DownloadFailed when Teams does not answer.
    """
    upload = spool.start(file.name, file.content_type)
    headers = {"Authorization": f"Bearer {token}"} if file.needs_token and token else {}
    try:
        async with http.stream(
            "GET", file.url, headers=headers, timeout=DOWNLOAD_TIMEOUT, follow_redirects=True
        ) as answer:
            if answer.status_code != 200:
                raise DownloadFailed(f"{file.name}: Teams answered {answer.status_code}")
            declared = answer.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > spool.policy.max_bytes:
                raise UploadRefused("too_large", limit=spool.policy.max_bytes, name=file.name)
            async for chunk in answer.aiter_bytes(CHUNK):
                spool.write(upload, chunk)
    except httpx.HTTPError as exc:
        log.warning("downloading %s failed: %s", file.name, type(exc).__name__)
        raise DownloadFailed(file.name) from exc
    upload.file.seek(0)
