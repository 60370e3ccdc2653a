"""A local stand-in for the Bot Framework token issuer: OpenID metadata, JWKS, token minting.

Point the SDK's production validation path at it with one class attribute (REFERENCE §2.5)::

    ChannelValidation.open_id_metadata_endpoint = idp.metadata_url   # reset to None after

Keys are published with ``"endorsements": ["msteams"]``, as Teams' are. The server runs in its
own thread because the SDK fetches the metadata with blocking calls on the bot's event loop.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
from aiohttp import web
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.fakes import ThreadedServer

ISSUER = "https://api.botframework.com"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class TeamsIdentityProvider:
    """Serve OpenID metadata + JWKS on 127.0.0.1 and mint channel tokens (good and bad)."""

    def __init__(self, *, endorsements: tuple[str, ...] = ("msteams",)) -> None:
        self.kid = f"kid-{uuid.uuid4().hex[:8]}"
        self._key = _key()
        self._stranger = _key()  # signs forged tokens under our kid
        self._endorsements = list(endorsements)
        self._server = ThreadedServer(self._app, name="fake-teams-idp")
        self.metadata_fetches = 0

    async def start(self) -> None:
        """Start serving, with the SDK's process-wide key cache forgetting this address."""
        await self._server.start()
        # The SDK caches metadata and keys per URL for an hour and only refetches on a miss after
        # that hour; an earlier issuer of this test process that had the same ephemeral port would
        # leave its keys there, and our fresh kid would be refused (a 401 that came and went).
        JwtTokenExtractor.metadataCache.pop(self.metadata_url, None)

    async def stop(self) -> None:
        """Stop serving."""
        await self._server.stop()

    @property
    def metadata_url(self) -> str:
        """The OpenID configuration URL the SDK should read."""
        return f"{self._server.url}/v1/.well-known/openidconfiguration"

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/keys", self._keys)
        return app

    async def _metadata(self, _request: web.Request) -> web.Response:
        self.metadata_fetches += 1
        return web.json_response(
            {
                "issuer": ISSUER,
                "authorization_endpoint": f"{self._server.url}/v1/authorize",
                "jwks_uri": f"{self._server.url}/v1/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _keys(self, _request: web.Request) -> web.Response:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk |= {"kid": self.kid, "use": "sig", "alg": "RS256", "endorsements": self._endorsements}
        return web.json_response({"keys": [jwk]})

    # ---- tokens -------------------------------------------------------------------------------

    def claims(self, app_id: str, service_url: str, **overrides: Any) -> dict[str, Any]:
        """Return the claims of a valid channel token (``None`` in overrides drops a claim)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": app_id,
            "serviceurl": service_url,
            "nbf": now - 60,
            "iat": now - 60,
            "exp": now + 3600,
        }
        claims.update(overrides)
        return {key: value for key, value in claims.items() if value is not None}

    def token(self, app_id: str, service_url: str, **overrides: Any) -> str:
        """Mint a valid channel token (claims adjustable through ``overrides``)."""
        return jwt.encode(
            self.claims(app_id, service_url, **overrides),
            self._key,
            algorithm="RS256",
            headers={"kid": self.kid},
        )

    def forged(self, app_id: str, service_url: str) -> str:
        """A token with good claims and our kid, signed by someone else's key."""
        return jwt.encode(
            self.claims(app_id, service_url),
            self._stranger,
            algorithm="RS256",
            headers={"kid": self.kid},
        )

    def expired(self, app_id: str, service_url: str) -> str:
        """A token that expired an hour ago (far beyond the SDK's 5-minute leeway)."""
        now = int(time.time())
        return self.token(app_id, service_url, iat=now - 7200, nbf=now - 7200, exp=now - 3600)

    def recently_expired(self, app_id: str, service_url: str) -> str:
        """A token that expired two minutes ago (inside the leeway, so still accepted)."""
        now = int(time.time())
        return self.token(app_id, service_url, iat=now - 3600, nbf=now - 3600, exp=now - 120)

    def unknown_kid(self, app_id: str, service_url: str) -> str:
        """A well-signed token naming a key the JWKS does not have."""
        return jwt.encode(
            self.claims(app_id, service_url),
            self._key,
            algorithm="RS256",
            headers={"kid": "kid-nobody"},
        )

    def unsigned(self, app_id: str, service_url: str) -> str:
        """A token with ``alg: none``."""
        return jwt.encode(
            self.claims(app_id, service_url), None, algorithm="none", headers={"kid": self.kid}
        )

    def hs256(self, app_id: str, service_url: str) -> str:
        """A token signed with a shared secret instead of the RSA key."""
        return jwt.encode(
            self.claims(app_id, service_url),
            "a-shared-secret-nobody-should-trust-0000",
            algorithm="HS256",
            headers={"kid": self.kid},
        )
