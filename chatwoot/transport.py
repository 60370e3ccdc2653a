"""The HTTP plumbing under the Chatwoot client: one call under the retry policy, typed errors."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping, Sequence
from enum import Enum, auto
from types import TracebackType
from typing import Any, BinaryIO, Self

import httpx

from chatwoot.errors import ChatwootUnavailable, rejection, retry_after

log = logging.getLogger(__name__)

# Bounded and small: the caller (a web request, a bot turn) is waiting.
_ATTEMPTS = 3
_BACKOFF_BASE = 0.2
_BACKOFF_CAP = 2.0
# A 429 asking us to wait longer than this is reported rather than slept through.
_MAX_RETRY_AFTER = 5.0


class Retry(Enum):
    """Say when a failed call may be sent again."""

    SAFE = auto()  # idempotent: GETs, deterministic-id creates, resolve, typing, last seen
    BEFORE_SEND = auto()  # only when the connection failed before the request left


def redact(url: str) -> str:
    """Drop the inbox identifier and contact source id from a URL: together they are a key."""
    parts = url.split("/")
    for index, part in enumerate(parts[:-1]):
        if part in ("inboxes", "contacts"):
            parts[index + 1] = "…"
    return "/".join(parts)


class Transport:
    """Send calls to Chatwoot over one httpx client, retrying only where it is safe."""

    def __init__(self, *, http: httpx.AsyncClient | None, timeout: float) -> None:
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(timeout))
        self._timeout = timeout

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            await self._http.aclose()

    async def _request(
        self,
        method: str,
        url: str,
        *,
        retry: Retry,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        files: Sequence[tuple[str, tuple[str, BinaryIO, str]]] | None = None,
        http_timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """Send one call under the retry policy and map failures to typed errors."""
        for attempt in range(1, _ATTEMPTS + 1):
            last = attempt == _ATTEMPTS
            try:
                response = await self._http.request(
                    method,
                    url,
                    json=json,
                    params=params,
                    headers=headers,
                    data=data,
                    files=files,
                    timeout=httpx.USE_CLIENT_DEFAULT if http_timeout is None else http_timeout,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached Chatwoot: retrying cannot duplicate anything.
                if last:
                    raise ChatwootUnavailable(
                        f"cannot connect to Chatwoot: {exc!r}", request_sent=False
                    ) from exc
            except httpx.TransportError as exc:
                # A read timeout or a dropped connection after sending: Chatwoot may have acted.
                if last or retry is not Retry.SAFE:
                    raise ChatwootUnavailable(f"Chatwoot did not answer: {exc!r}") from exc
            else:
                status = response.status_code
                if status < 400:
                    return response
                if status == 429 or status >= 500:
                    wait = retry_after(response)
                    error = ChatwootUnavailable(
                        f"Chatwoot answered {status}", status=status, retry_after=wait
                    )
                    too_long = wait is not None and wait > _MAX_RETRY_AFTER
                    if last or retry is not Retry.SAFE or too_long:
                        raise error
                    if wait is not None:
                        await asyncio.sleep(wait)
                        continue
                else:
                    raise rejection(response)
            delay = min(_BACKOFF_CAP, _BACKOFF_BASE * 2 ** (attempt - 1))
            log.info("retrying %s %s (attempt %d)", method, redact(url), attempt + 1)
            await asyncio.sleep(random.uniform(delay / 2, delay))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _json(
        self, method: str, url: str, *, retry: Retry, json: Any = None, **kwargs: Any
    ) -> Any:
        response = await self._request(method, url, retry=retry, json=json, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise ChatwootUnavailable(
                f"Chatwoot answered non-JSON for {method} {redact(url)}"
            ) from exc

    async def _object(self, method: str, url: str, *, retry: Retry, **kwargs: Any) -> Any:
        body = await self._json(method, url, retry=retry, **kwargs)
        if not isinstance(body, Mapping):
            raise ChatwootUnavailable(f"Chatwoot answered an unexpected body for {redact(url)}")
        return body

    async def _list(self, url: str, **kwargs: Any) -> list[Mapping[str, Any]]:
        body = await self._json("GET", url, retry=Retry.SAFE, **kwargs)
        if not isinstance(body, list):
            raise ChatwootUnavailable(f"Chatwoot answered an unexpected body for {redact(url)}")
        return [item for item in body if isinstance(item, Mapping)]
