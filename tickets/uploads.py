"""Files an employee sends: the limits they must meet and the spooled bytes on their way out."""

from __future__ import annotations

import mimetypes
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

from tickets.errors import TicketError

# Chatwoot's own cap (`Message::NUMBER_OF_PERMITTED_ATTACHMENTS`).
MAX_FILES = 15
MAX_NAME = 200
CHUNK = 64 * 1024
# Some browsers and the Teams download say only this; the extension then decides the type.
UNKNOWN_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})


class UploadRefused(TicketError):
    """A file breaks a limit; `reason` is too_large, too_many, type_refused or no_name."""

    def __init__(self, reason: str, *, limit: int | str, name: str = "") -> None:
        super().__init__(f"{reason} (limit {limit}) {name}".strip())
        self.reason = reason
        self.limit = limit
        self.name = name

    @property
    def status(self) -> int:
        """Return the HTTP status the web answers with: 413 too big, else 422."""
        return 413 if self.reason == "too_large" else 422


@dataclass
class Upload:
    """One received file, spooled to a temporary file (never kept whole in memory)."""

    name: str
    content_type: str
    file: BinaryIO
    size: int = 0


@dataclass
class UploadPolicy:
    """The limits of `ATTACHMENT_MAX_BYTES`, `ATTACHMENT_TYPES` and Chatwoot's 15 files."""

    max_bytes: int
    types: Sequence[str]
    max_files: int = MAX_FILES

    def type_of(self, name: str, declared: str) -> str:
        """Return the file's type if allowed, else raise UploadRefused(type_refused).

        The declared type and the type its extension implies must both be allowed, so a
        `.exe` sent as `image/png` is refused as well.
        """
        declared = declared.split(";", 1)[0].strip().lower()
        guessed = (mimetypes.guess_type(name, strict=False)[0] or "").lower()
        kind = guessed if declared in UNKNOWN_TYPES else declared
        if not kind or not self.allows(kind) or (guessed and not self.allows(guessed)):
            raise UploadRefused("type_refused", limit=", ".join(self.types), name=name)
        return kind

    def allows(self, kind: str) -> bool:
        """Tell whether a MIME type is on the allow-list (`type/*` and `prefix.*` patterns)."""
        for pattern in self.types:
            pattern = pattern.lower()
            if pattern.endswith("*") and kind.startswith(pattern[:-1]):
                return True
            if kind == pattern:
                return True
        return False


def clean_name(raw: str | None) -> str:
    """Return a file's name without folders or control characters; '' when nothing is left."""
    base = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"')
    return cleaned.strip()[:MAX_NAME]


@dataclass
class Spool:
    """Received files under one policy; closes their temporary files when done."""

    policy: UploadPolicy
    files: list[Upload] = field(default_factory=list)

    def start(self, raw_name: str | None, declared: str) -> Upload:
        """Begin a file: checks its name, count and type before any byte is kept."""
        name = clean_name(raw_name)
        if not name:
            raise UploadRefused("no_name", limit=MAX_NAME)
        if len(self.files) >= self.policy.max_files:
            raise UploadRefused("too_many", limit=self.policy.max_files, name=name)
        kind = self.policy.type_of(name, declared)
        upload = Upload(name=name, content_type=kind, file=tempfile.TemporaryFile())  # noqa: SIM115
        self.files.append(upload)
        return upload

    def write(self, upload: Upload, chunk: bytes) -> None:
        """Append bytes to a file; raise UploadRefused(too_large) past the size limit."""
        upload.size += len(chunk)
        if upload.size > self.policy.max_bytes:
            raise UploadRefused("too_large", limit=self.policy.max_bytes, name=upload.name)
        upload.file.write(chunk)

    def close(self) -> None:
        """Drop every temporary file."""
        for upload in self.files:
            upload.file.close()


@contextmanager
def spooled(policy: UploadPolicy) -> Iterator[Spool]:
    """Give a Spool whose temporary files are closed however the request ends."""
    spool = Spool(policy)
    try:
        yield spool
    finally:
        spool.close()
