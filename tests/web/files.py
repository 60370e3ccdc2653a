"""Files for attachment tests: a small PNG, a PDF, and an agent message carrying them."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import httpx

from sandbox import SandboxServer


def png(width: int = 2, height: int = 2) -> bytes:
    """Return a small valid PNG (red pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def agent_files(
    sandbox: SandboxServer, conversation: int, content: str, files: list[tuple[str, bytes, str]]
) -> dict[str, Any]:
    """Send an agent message with files through the sandbox's control API (multipart)."""
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{sandbox.url}/sandbox/api/conversations/{conversation}/messages",
            data={"content": content, "agent": "Rita"},
            files=[("attachments", file) for file in files],
        )
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body
