"""Read a multipart message (text and files) from the stream into a Spool, limits checked early."""

from __future__ import annotations

from aiohttp import BodyPartReader, web

from tickets import keys
from tickets.uploads import CHUNK, Spool, UploadPolicy, UploadRefused
from web import sessions

FILE_FIELD = "attachments"
# Text fields are small; a bigger one is not ours.
MAX_TEXT = 64 * 1024
# Multipart framing per part is small; anything past this much over the files is not ours.
FRAMING_SLACK = 256 * 1024


def policy_of(request: web.Request) -> UploadPolicy:
    """Return the upload limits from the settings."""
    settings = request.app[keys.SETTINGS]
    return UploadPolicy(max_bytes=settings.ATTACHMENT_MAX_BYTES, types=settings.ATTACHMENT_TYPES)


def upload_limits(request: web.Request) -> dict[str, object]:
    """Return the limits the page script checks before sending (the server checks again)."""
    policy = policy_of(request)
    return {
        "field": FILE_FIELD,
        "maxBytes": policy.max_bytes,
        "maxFiles": policy.max_files,
        "types": list(policy.types),
    }


async def read_message_form(
    request: web.Request,
    spool: Spool,
    *,
    html_form: bool = False,
    fields: dict[str, str] | None = None,
) -> dict[str, str]:
    """Stream the parts: text fields returned, files spooled to disk; UploadRefused on a limit.

    A declared body larger than every allowed file together is refused before it is read.
    `html_form`: a page's form (its CSRF token a field, checked before the first file is
    kept and at the end) sends an unused file input as a nameless empty part; skip it.
    The text fields go into `fields` as they come, so a refusal keeps what was typed.
    """
    fields = {} if fields is None else fields
    policy = spool.policy
    ceiling = policy.max_bytes * policy.max_files + FRAMING_SLACK
    if request.content_length is not None and request.content_length > ceiling:
        raise UploadRefused("too_large", limit=policy.max_bytes)
    try:
        return await _read_parts(request, spool, fields, html_form=html_form)
    except UploadRefused:
        # Read the rest (bounded above) so the client sees our answer, not a reset connection.
        while await request.content.read(CHUNK):
            pass
        raise


async def _read_parts(
    request: web.Request, spool: Spool, fields: dict[str, str], *, html_form: bool
) -> dict[str, str]:
    checked = not html_form
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise web.HTTPBadRequest(text="nested multipart is not accepted")
        if part.name == FILE_FIELD:
            if not checked:
                sessions.check_form(request, fields.get(sessions.CSRF_FIELD))
                checked = True
            if html_form and not part.filename:
                await part.release()
                continue
            await _spool_file(part, spool)
        elif part.name and part.filename is None:
            fields[part.name] = await _text(part)
        else:
            await part.release()  # an unknown file field: read past it, keep nothing
    if not checked:
        sessions.check_form(request, fields.get(sessions.CSRF_FIELD))
    return fields


async def _text(part: BodyPartReader) -> str:
    raw = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        raw += chunk
        if len(raw) > MAX_TEXT:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_TEXT, actual_size=len(raw))
    return raw.decode("utf-8", errors="replace")


async def _spool_file(part: BodyPartReader, spool: Spool) -> None:
    declared = part.headers.get("Content-Type", "")
    upload = spool.start(part.filename, declared)
    while chunk := await part.read_chunk(CHUNK):
        spool.write(upload, chunk)
    upload.file.seek(0)
