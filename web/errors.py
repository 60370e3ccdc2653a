"""The web area's error boundary: a page per status (JSON under /api/), never a stack trace."""

from __future__ import annotations

import logging
import uuid
from urllib.parse import quote

from aiohttp import web
from aiohttp.typedefs import Handler

import i18n
from db.engine import unreachable
from tickets import keys
from web.render import locale_of, render
from web.sessions import is_foreign

log = logging.getLogger(__name__)

JSON_ERRORS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "too_many_requests",
    500: "internal",
    503: "unavailable",
}
HSTS_MAX_AGE = 365 * 24 * 3600
# Seconds a client is told to wait when the database is out of reach.
RETRY_AFTER = 5
KNOWN_PAGES = frozenset({400, 401, 403, 404, 405, 413, 429, 500, 503})

# Request flag: this page may show https images from Chatwoot content (bot cards).
REMOTE_IMAGES = web.RequestKey("remote_images", bool)


def login_url(next_path: str) -> str:
    """Build the sign-in address that comes back to `next_path`."""
    return f"/login?next={quote(next_path, safe='/')}"


def error_response(
    request: web.Request, status: int, *, error_id: str | None = None
) -> web.Response:
    """Answer an error in the surface's format: JSON for the API, a page otherwise."""
    if request.path.startswith("/api/"):
        body: dict[str, str] = {"error": JSON_ERRORS.get(status, "error")}
        if error_id:
            body["errorId"] = error_id
        return web.json_response(body, status=status)
    if status == 401:
        return web.Response(status=303, headers={"Location": login_url(request.path_qs)})
    shown = status if status in KNOWN_PAGES else (500 if status >= 500 else 400)
    locale = locale_of(request)
    return render(
        request,
        "error.html",
        {
            "status": status,
            "message": i18n.t(f"error.{shown}", locale),
            "error_id": error_id,
        },
        status=status,
    )


def client_gone(request: web.Request, exc: BaseException) -> bool:
    """Tell whether an error only says that the browser closed the connection mid-request."""
    if not isinstance(exc, ConnectionResetError):
        return False
    transport = request.transport
    return transport is None or transport.is_closing()


@web.middleware
async def client_gone_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Log a browser that left mid-request at debug: nothing failed on our side."""
    try:
        return await handler(request)
    except ConnectionResetError as exc:
        if not client_gone(request, exc):
            raise
        log.debug("client left during %s %s: %s", request.method, request.path, exc)
        # Nobody reads it; answering keeps aiohttp from logging the error a second time.
        return web.Response(status=499)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn HTTP errors and crashes of the web area into styled answers."""
    if is_foreign(request.path):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(request, exc.status)
    except Exception as exc:
        if client_gone(request, exc):
            raise
        error_id = uuid.uuid4().hex[:8]
        # The database out of reach (a restart, a failover, dropped connections) is no bug of
        # this request: 503 and "try again in a moment", and nothing was half written (every
        # write is one transaction).
        status = 503 if unreachable(exc) else 500
        if status == 503:
            log.warning(
                "web error %s on %s %s: database unreachable: %s",
                error_id,
                request.method,
                request.path,
                exc.__class__.__name__,
            )
        else:
            log.exception("web error %s on %s %s", error_id, request.method, request.path)
        headers = {"Retry-After": str(RETRY_AFTER)} if status == 503 else {}
        try:
            response = error_response(request, status, error_id=error_id)
        except Exception:  # the error page itself failed (database gone, ...)
            log.exception("error page for %s failed", error_id)
            text = "Service unavailable" if status == 503 else "Internal error"
            response = web.Response(status=status, text=f"{text} ({error_id})")
        response.headers.update(headers)
        return response


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Add the headers that keep pages from being framed, sniffed or injected into."""
    headers = response.headers
    settings = request.app[keys.SETTINGS]
    if settings.cookie_secure:
        # Every answer of an https service, foreign front doors included: once a browser has
        # seen it, a network attacker can no longer downgrade it to http (no subdomains: the
        # service does not own its siblings).
        headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_MAX_AGE}")
    if is_foreign(request.path) and not request.path.startswith("/static/"):
        return
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith("/static/"):
        if request.query.get("v"):
            headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return
    form_action = "'self'"
    if settings.microsoft_login_enabled:
        # Linking Microsoft posts a form that redirects to the identity provider.
        form_action += f" {settings.MICROSOFT_AUTHORITY_HOST}"
    # The chat page shows the pictures of an agent bot's cards (https only, no referrer).
    images = "'self' data: https:" if request.get(REMOTE_IMAGES) else "'self' data:"
    headers.setdefault(
        "Content-Security-Policy",
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; "
        f"connect-src 'self'; form-action {form_action}; base-uri 'none'; object-src 'none'; "
        "frame-ancestors 'self' https://teams.microsoft.com https://*.teams.microsoft.com "
        "https://*.cloud.microsoft https://*.office.com",
    )
