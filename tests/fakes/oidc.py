"""A stand-in Microsoft identity platform on https://127.0.0.1 for the web Microsoft login.

It serves what msal's auth-code flow touches: OIDC discovery
(`/{tenant}/v2.0/.well-known/openid-configuration`), `/{tenant}/oauth2/v2.0/authorize`
(auto-approves the configured user and hands code + state back, by redirect or form_post),
`/{tenant}/oauth2/v2.0/token` (checks the code, redirect URI, client secret and the PKCE
verifier; answers an RS256 id token carrying the requested nonce) and the JWKS. The TLS
certificate is self-signed and made at start; `ca_file` is what a client must trust.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import ipaddress
import secrets
import ssl
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass
class IdpUser:
    """The person the stand-in signs in."""

    oid: str
    tid: str
    name: str
    preferred_username: str
    # The optional `email` claim, and `xms_edov` (the e-mail's domain is verified by its owner).
    email: str | None = None
    email_domain_verified: bool | None = None


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    nonce: str | None
    challenge: str | None
    method: str | None
    user: IdpUser


@dataclass
class FakeIdentityProvider:
    """Serve discovery, authorize, token and JWKS for one tenant over self-signed https."""

    tenant: str
    client_id: str
    client_secret: str
    user: IdpUser
    deny: bool = False
    wrong_nonce: bool = False
    requests: list[str] = field(default_factory=list)
    token_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._grants: dict[str, _Grant] = {}
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._kid = secrets.token_hex(8)
        self._runner: web.AppRunner | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="fake-idp-")
        self.ca_file = ""
        self.url = ""

    @property
    def issuer(self) -> str:
        """Return the issuer the id tokens carry."""
        return f"{self.url}/{self.tenant}/v2.0"

    async def start(self) -> FakeIdentityProvider:
        """Listen on an ephemeral port of 127.0.0.1 with a fresh certificate."""
        cert_file, key_file = self._certificate()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        app = web.Application()
        base = "/{tenant}"
        app.router.add_get(f"{base}/v2.0/.well-known/openid-configuration", self._discovery)
        app.router.add_get(f"{base}/oauth2/v2.0/authorize", self._authorize)
        app.router.add_post(f"{base}/oauth2/v2.0/token", self._token)
        app.router.add_get(f"{base}/discovery/v2.0/keys", self._keys)
        app.router.add_get("/common/discovery/instance", self._instance)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"https://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        """Stop serving and delete the certificate files."""
        if self._runner is not None:
            await self._runner.cleanup()
        self._dir.cleanup()

    def _certificate(self) -> tuple[str, str]:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=2))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        folder = Path(self._dir.name)
        cert_file, key_file = folder / "cert.pem", folder / "key.pem"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.ca_file = str(cert_file)
        return str(cert_file), str(key_file)

    # ---- endpoints ---------------------------------------------------------------------

    def _tenant(self, request: web.Request) -> None:
        self.requests.append(f"{request.method} {request.path}")
        if request.match_info["tenant"] != self.tenant:
            raise web.HTTPNotFound(text='{"error":"invalid_tenant"}')

    async def _discovery(self, request: web.Request) -> web.Response:
        self._tenant(request)
        base = f"{self.url}/{self.tenant}"
        return web.json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def _instance(self, request: web.Request) -> web.Response:
        self.requests.append(f"{request.method} {request.path}")
        return web.json_response(
            {
                "tenant_discovery_endpoint": (
                    f"{self.url}/{self.tenant}/v2.0/.well-known/openid-configuration"
                ),
                "api-version": "1.1",
                "metadata": [],
            }
        )

    async def _authorize(self, request: web.Request) -> web.Response:
        self._tenant(request)
        query = request.query
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or not redirect_uri:
            return web.json_response({"error": "unauthorized_client"}, status=400)
        if query.get("response_type") != "code":
            return web.json_response({"error": "unsupported_response_type"}, status=400)
        state = query.get("state", "")
        if self.deny:
            answer = {"error": "access_denied", "error_description": "The user said no."}
        else:
            code = secrets.token_urlsafe(24)
            self._grants[code] = _Grant(
                client_id=self.client_id,
                redirect_uri=redirect_uri,
                nonce=query.get("nonce"),
                challenge=query.get("code_challenge"),
                method=query.get("code_challenge_method"),
                user=self.user,
            )
            answer = {"code": code}
        answer["state"] = state
        if query.get("response_mode") == "form_post":
            # As Entra does: a page that posts the answer to the redirect URI (cross-site).
            inputs = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, v in answer.items()
            )
            page = (
                f'<html><body><form method="post" action="{html.escape(redirect_uri)}">'
                f"{inputs}<noscript><button>Continue</button></noscript></form>"
                "<script>document.forms[0].submit()</script></body></html>"
            )
            return web.Response(text=page, content_type="text/html")
        return web.Response(status=302, headers={"Location": f"{redirect_uri}?{urlencode(answer)}"})

    def _refuse(self, error: str) -> web.Response:
        self.token_errors.append(error)
        return web.json_response({"error": error, "error_description": error}, status=400)

    async def _token(self, request: web.Request) -> web.Response:
        self._tenant(request)
        form = await request.post()
        if form.get("grant_type") != "authorization_code":
            return self._refuse("unsupported_grant_type")
        grant = self._grants.pop(str(form.get("code", "")), None)
        if grant is None:
            return self._refuse("invalid_grant")
        if form.get("client_id") != grant.client_id:
            return self._refuse("invalid_client")
        if form.get("client_secret") != self.client_secret:
            return self._refuse("invalid_client")
        if form.get("redirect_uri") != grant.redirect_uri:
            return self._refuse("invalid_grant")
        verifier = str(form.get("code_verifier", ""))
        digest = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if grant.method != "S256" or not verifier or expected != grant.challenge:
            return self._refuse("invalid_grant")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": grant.client_id,
            "sub": f"sub-{grant.user.oid}",
            "oid": grant.user.oid,
            "tid": grant.user.tid,
            "name": grant.user.name,
            "preferred_username": grant.user.preferred_username,
            "nonce": "not-the-nonce" if self.wrong_nonce else grant.nonce,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "ver": "2.0",
        }
        if grant.user.email is not None:
            claims["email"] = grant.user.email
        if grant.user.email_domain_verified is not None:
            claims["xms_edov"] = grant.user.email_domain_verified
        id_token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self._kid})
        return web.json_response(
            {
                "token_type": "Bearer",
                "scope": "openid profile email",
                "expires_in": 3600,
                "access_token": secrets.token_urlsafe(32),
                "id_token": id_token,
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        self._tenant(request)
        jwk: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(
            self._key.public_key(), as_dict=True
        )
        jwk.update({"kid": self._kid, "use": "sig", "alg": "RS256"})
        return web.json_response({"keys": [jwk]})
