"""The Microsoft identity platform part (tenant discovery, client-credentials tokens) and ARM's bearer check.

    GET  /{tenant}/v2.0/.well-known/openid-configuration   what MSAL reads first (issuer, token_endpoint, ...
                                                           all on the sandbox's own https base URL)
    POST /{tenant}/oauth2/v2.0/token                       grant_type=client_credentials, client_id,
                                                           client_secret (body or HTTP Basic), scope=<resource>/.default

Errors are the identity platform's (`errors.aad_error`): unknown tenant 400 invalid_tenant / invalid_request
AADSTS90002, unknown client 400 unauthorized_client AADSTS700016, wrong secret 401 invalid_client
AADSTS7000215, missing secret 401 AADSTS7000218, missing parameter 400 AADSTS900144, a scope without
`/.default` 400 invalid_scope AADSTS1002012, an unknown resource 400 invalid_resource AADSTS500011.

Access tokens are JWT-shaped v1 tokens as ARM gets them (aud, iss https://sts.windows.net/<tid>/, appid,
oid, tid, iat/nbf/exp from the sandbox clock) signed HS256 with a per-run key: clients treat them as
opaque, the sandbox checks them. ARM answers 401 with a `WWW-Authenticate: Bearer authorization_uri=...,
error="invalid_token", error_description=...` header and AuthenticationFailed (no or malformed header),
InvalidAuthenticationToken (not ours / tampered), InvalidAuthenticationTokenAudience (another resource's
token) or ExpiredAuthenticationToken (past `exp` on the sandbox clock).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ppm_sandbox.azure.errors import ArmError, aad_error
from ppm_sandbox.azure.store import AzureStore
from ppm_sandbox.clock import SandboxClock

#: Audiences ARM accepts (with or without the trailing slash), besides the sandbox's own base URL.
ARM_AUDIENCES = frozenset({"https://management.azure.com", "https://management.core.windows.net"})
#: Resources the tenant issues tokens for (ARM refuses all but its own).
KNOWN_RESOURCES = ARM_AUDIENCES | {
    "https://graph.microsoft.com",
    "https://vault.azure.net",
    "https://storage.azure.com",
}
LOCAL_HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class Principal:
    """Who an ARM request runs as: the token's application."""

    client_id: str
    object_id: str
    tenant_id: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _arm_time(value: datetime) -> str:
    """ARM's wording of times in token errors: `11/1/2026 10:00:00 AM`."""
    hour = value.hour % 12 or 12
    return f"{value.month}/{value.day}/{value.year} {hour}:{value:%M:%S} {'AM' if value.hour < 12 else 'PM'}"


class IdentityPlatform:
    def __init__(self, store: AzureStore, clock: SandboxClock, lifetime_s: int) -> None:
        self.store = store
        self.clock = clock
        self.lifetime_s = lifetime_s
        self._key = secrets.token_bytes(32)

    # discovery -----------------------------------------------------------------------------------
    def known_tenant(self, tenant: str) -> bool:
        return tenant.lower() == self.store.tenant_id.lower()

    def tenant_not_found(self, tenant: str, error: str) -> tuple[int, dict[str, Any]]:
        return aad_error(
            400,
            error,
            90002,
            f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into "
            "the correct cloud. Check with your subscription administrator, this may happen if there are no "
            "active subscriptions for the tenant.",
            self.clock.now(),
        )

    def openid_configuration(self, base: str, tenant: str) -> tuple[int, dict[str, Any]]:
        if not self.known_tenant(tenant):
            return self.tenant_not_found(tenant, "invalid_tenant")
        tid = self.store.tenant_id
        root = f"{base}/{tid}"
        return 200, {
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{root}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{root}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
            "claims_supported": [
                "sub",
                "iss",
                "cloud_instance_name",
                "cloud_instance_host_name",
                "cloud_graph_host_name",
                "msgraph_host",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "acr",
                "nonce",
                "preferred_username",
                "name",
                "tid",
                "ver",
                "at_hash",
                "c_hash",
                "email",
            ],
            "kerberos_endpoint": f"{root}/kerberos",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }

    # token endpoint ------------------------------------------------------------------------------
    def token(
        self, base: str, tenant: str, body: bytes, content_type: str, authorization: str | None
    ) -> tuple[int, dict[str, Any]]:
        now = self.clock.now()
        if not self.known_tenant(tenant):
            return self.tenant_not_found(tenant, "invalid_request")
        form: dict[str, str] = {}
        if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
            form = {
                k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()
            }
        basic_id, basic_secret = _basic(authorization)
        missing = next(
            (p for p in ("grant_type", "client_id") if not (form.get(p) or (p == "client_id" and basic_id))),
            None,
        )
        if missing:
            return aad_error(
                400,
                "invalid_request",
                900144,
                f"The request body must contain the following parameter: '{missing}'.",
                now,
            )
        if form["grant_type"] != "client_credentials":
            return aad_error(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{form['grant_type']}'.",
                now,
            )
        client_id = form.get("client_id") or basic_id or ""
        clients = self.store.clients()
        if client_id not in clients:
            return aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory '{self.store.tenant_id}'. "
                "This can happen if the application has not been installed by the administrator of the tenant or "
                "consented to by any user in the tenant. You may have sent your authentication request to the wrong "
                "tenant.",
                now,
            )
        secret = form.get("client_secret") or basic_secret
        if not secret and not form.get("client_assertion"):
            return aad_error(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
                now,
            )
        if secret is None or not hmac.compare_digest(secret, clients[client_id]):
            return aad_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret "
                f"value, not the client secret ID, for a secret added to app '{client_id}'.",
                now,
            )
        scopes = (form.get("scope") or "").split()
        if not scopes:
            return aad_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
                now,
            )
        resource = scopes[0]
        if len(scopes) > 1 or not resource.endswith("/.default"):
            return aad_error(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {' '.join(scopes)} is not valid. Client credential flows must have a "
                "scope value with /.default suffixed to the resource identifier (application ID URI).",
                now,
            )
        audience = resource[: -len("/.default")]
        if audience.rstrip("/") not in KNOWN_RESOURCES and not _is_local(audience, base):
            return aad_error(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {audience} was not found in the tenant named {self.store.tenant_id}. "
                "This can happen if the application has not been installed by the administrator of the tenant or "
                "consented to by any user in the tenant. You might have sent your authentication request to the "
                "wrong tenant.",
                now,
            )
        token = self.issue(client_id, audience, now)
        return 200, {
            "token_type": "Bearer",
            "expires_in": self.lifetime_s,
            "ext_expires_in": self.lifetime_s,
            "access_token": token,
        }

    def issue(self, client_id: str, audience: str, now: datetime | None = None) -> str:
        """A signed access token for `client_id` (tests may mint one directly)."""
        moment = int((now or self.clock.now()).timestamp())
        tid = self.store.tenant_id
        oid = self.store.object_id(client_id)
        claims = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{tid}/",
            "iat": moment,
            "nbf": moment,
            "exp": moment + self.lifetime_s,
            "aio": _b64(secrets.token_bytes(24)),
            "appid": client_id,
            "appidacr": "1",
            "idp": f"https://sts.windows.net/{tid}/",
            "idtyp": "app",
            "oid": oid,
            "rh": "0.AAAA" + _b64(secrets.token_bytes(12)) + ".",
            "sub": oid,
            "tid": tid,
            "uti": _b64(secrets.token_bytes(16)),
            "ver": "1.0",
        }
        header = {"typ": "JWT", "alg": "HS256", "kid": "ppm-sandbox"}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"

    # ARM bearer check ----------------------------------------------------------------------------
    def authenticate(self, authorization: str | None, base: str) -> Principal:
        """The principal of a valid ARM bearer token; ArmError 401 otherwise."""
        if not authorization:
            raise self._unauthorized(
                base,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                "The authentication failed because of missing 'Authorization' header.",
            )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise self._unauthorized(
                base,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                "The authentication failed because of invalid 'Authorization' header format.",
            )
        claims = self._verify(token.strip())
        if claims is None:
            raise self._unauthorized(
                base,
                "InvalidAuthenticationToken",
                "The access token is invalid.",
                "The access token is invalid.",
            )
        audience = str(claims.get("aud", ""))
        if audience.rstrip("/") not in ARM_AUDIENCES and not _is_local(audience, base):
            message = (
                f"The access token has been obtained for wrong audience or resource '{audience}'. It should exactly "
                "match with one of the allowed audiences 'https://management.core.windows.net/',"
                "'https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'."
            )
            raise self._unauthorized(base, "InvalidAuthenticationTokenAudience", message, message)
        now = self.clock.now()
        expiry = datetime.fromtimestamp(int(claims["exp"]), UTC)
        if now >= expiry:
            message = (
                f"The access token expiry UTC time '{_arm_time(expiry)}' is earlier than current UTC time "
                f"'{_arm_time(now)}'."
            )
            raise self._unauthorized(
                base, "ExpiredAuthenticationToken", message, "The access token has expired."
            )
        client_id = str(claims.get("appid", ""))
        return Principal(client_id, str(claims.get("oid", "")), str(claims.get("tid", "")))

    def _verify(self, token: str) -> dict[str, Any] | None:
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            expected = hmac.new(self._key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(parts[2])):
                return None
            claims = json.loads(_unb64(parts[1]))
        except (ValueError, binascii.Error):
            return None
        if not isinstance(claims, dict) or claims.get("tid") != self.store.tenant_id or "exp" not in claims:
            return None
        return claims

    def _unauthorized(self, base: str, code: str, message: str, description: str) -> ArmError:
        challenge = (
            f'Bearer authorization_uri="{base}/{self.store.tenant_id}", error="invalid_token", '
            f'error_description="{description}"'
        )
        return ArmError(401, code, message, headers={"WWW-Authenticate": challenge})


def _basic(authorization: str | None) -> tuple[str | None, str | None]:
    """client_secret_basic: `Authorization: Basic base64(client_id:secret)`."""
    if not authorization or not authorization.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(authorization[6:].strip()).decode()
    except (ValueError, binascii.Error):
        return None, None
    client_id, _, secret = decoded.partition(":")
    return client_id or None, secret or None


def _is_local(audience: str, base: str) -> bool:
    """The sandbox's own base URL as a resource (`credential_scopes=[<base>/.default]`), by either local name."""
    try:
        target, own = urlsplit(audience), urlsplit(base)
    except ValueError:
        return False
    return (
        target.scheme == "https"
        and target.port == own.port
        and (target.hostname in LOCAL_HOSTS or target.hostname == own.hostname)
        and target.path in ("", "/")
    )
