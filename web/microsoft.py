"""Microsoft (Entra) sign-in with msal's auth-code flow: PKCE, state and nonce checked by msal."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import msal
import requests

from tickets.settings import Settings

log = logging.getLogger(__name__)


class MicrosoftLoginFailed(Exception):
    """The identity provider refused, the flow did not match, or the answer was unusable."""


@dataclass(frozen=True)
class EntraIdentity:
    """Who signed in: the Entra object id and tenant identify the person."""

    oid: str
    tid: str
    name: str | None
    email: str | None  # only a verified address; unverified claims are dropped


class MicrosoftLogin:
    """Start and finish the auth-code flow; msal's blocking HTTP runs in worker threads."""

    def __init__(self, settings: Settings) -> None:
        self._client_id = settings.MICROSOFT_CLIENT_ID
        self._secret = settings.MICROSOFT_CLIENT_SECRET.get_secret_value()
        self.authority = f"{settings.MICROSOFT_AUTHORITY_HOST}/{settings.MICROSOFT_TENANT_ID}"
        self._tenants = settings.allowed_tenants
        self._http = requests.Session()
        # Discovery documents only (msal keeps no tokens here): later logins skip the fetch.
        self._http_cache: dict[Any, Any] = {}

    def close(self) -> None:
        """Release the HTTP connections."""
        self._http.close()

    def _app(self) -> msal.ConfidentialClientApplication:
        # A fresh token cache per login: we only want the identity, and a shared cache
        # would keep every user's tokens in memory for the life of the process.
        return msal.ConfidentialClientApplication(
            self._client_id,
            client_credential=self._secret,
            authority=self.authority,
            http_client=self._http,
            http_cache=self._http_cache,
            token_cache=msal.TokenCache(),
            instance_discovery=False,
        )

    async def start(self, redirect_uri: str) -> dict[str, Any]:
        """Begin a flow; keep the returned dict in the session and send the user to auth_uri."""
        try:
            return await asyncio.to_thread(self._start, redirect_uri)
        except (ValueError, requests.RequestException) as exc:
            log.warning("Microsoft login could not start: %s", exc)
            raise MicrosoftLoginFailed("start") from exc

    def _start(self, redirect_uri: str) -> dict[str, Any]:
        # form_post keeps the code out of URLs (history, logs), as RFC 9700 recommends.
        flow: dict[str, Any] = self._app().initiate_auth_code_flow(
            scopes=[], redirect_uri=redirect_uri, prompt="select_account", response_mode="form_post"
        )
        return flow

    async def finish(self, flow: dict[str, Any], answer: dict[str, str]) -> EntraIdentity:
        """Redeem the code of the callback for an id token and return the identity in it."""
        try:
            result = await asyncio.to_thread(self._finish, flow, answer)
        except (ValueError, RuntimeError, requests.RequestException) as exc:
            # msal raises ValueError for a state mismatch, RuntimeError for an id token that
            # fails its checks (nonce, audience, issuer, expiry).
            log.warning("Microsoft login refused: %s", exc)
            raise MicrosoftLoginFailed("flow") from exc
        if "error" in result:
            log.warning(
                "Microsoft login error: %s %s", result.get("error"), result.get("error_description")
            )
            raise MicrosoftLoginFailed(str(result.get("error")))
        claims = result.get("id_token_claims") or {}
        oid, tid = claims.get("oid"), claims.get("tid")
        if not isinstance(oid, str) or not isinstance(tid, str) or not oid or not tid:
            raise MicrosoftLoginFailed("no oid/tid in the id token")
        if self._tenants and tid not in self._tenants:
            log.warning("Microsoft login refused: tenant %s is not in ALLOWED_TENANTS", tid)
            raise MicrosoftLoginFailed("tenant")
        name = claims.get("name")
        return EntraIdentity(
            oid=oid, tid=tid, name=str(name)[:200] if name else None, email=verified_email(claims)
        )

    def _finish(self, flow: dict[str, Any], answer: dict[str, str]) -> dict[str, Any]:
        result: dict[str, Any] = self._app().acquire_token_by_auth_code_flow(flow, answer)
        return result


def verified_email(claims: dict[str, Any]) -> str | None:
    """Return the token's e-mail only when Entra vouches for it, else None.

    `email` and `preferred_username` can hold addresses nobody verified (a guest's, an
    unverified domain's); `xms_edov` says the domain owner verified it.
    """
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        return None
    if _true(claims.get("xms_edov")) or _true(claims.get("email_verified")):
        return email[:320]
    return None


def _true(value: object) -> bool:
    # Entra sends optional boolean claims as JSON booleans, some issuers as strings.
    return value is True or value in ("true", "True", "1", 1)
