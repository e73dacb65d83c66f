"""Opaque, signed continuation tokens for Resource Graph (`$skipToken`) and Advisor (`nextLink`).

A token names the offset and page size of the next page and is bound to what produced it (the query
text and scopes, or the subscription and filter): reused with another query it is refused, as real ARG
refuses a token "not passed together with the same query and scopes". Tokens are base64 of JSON, like
ARG's own (`{"$id": "1", "MaxRows": ..., "RowsToSkip": ...}`), plus an HMAC so that they cannot be
forged or edited; Advisor's are URL-safe since they travel in a query string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets


def binding(*parts: str) -> str:
    """A short digest of what a token is tied to."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


class PageTokens:
    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    def _sign(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, bound_to: str, offset: int, size: int, *, url_safe: bool = False) -> str:
        body = {"$id": "1", "MaxRows": size, "RowsToSkip": offset, "Binding": bound_to}
        payload = json.dumps(body, separators=(",", ":"), sort_keys=True)
        raw = json.dumps(
            {**body, "Signature": self._sign(payload)}, separators=(",", ":"), sort_keys=True
        ).encode()
        if url_safe:
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return base64.b64encode(raw).decode()

    def read(self, token: str, bound_to: str) -> tuple[int, int]:
        """(offset, page size) of a token issued for `bound_to`; ValueError otherwise."""
        try:
            padded = token + "=" * (-len(token) % 4)
            raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
            data = json.loads(raw)
            signature = data.pop("Signature")
            payload = json.dumps(data, separators=(",", ":"), sort_keys=True)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ValueError("malformed token") from exc
        if not hmac.compare_digest(str(signature), self._sign(payload)):
            raise ValueError("token signature mismatch")
        if data.get("Binding") != bound_to:
            raise ValueError("token issued for another query")
        offset, size = data.get("RowsToSkip"), data.get("MaxRows")
        if not isinstance(offset, int) or not isinstance(size, int) or offset < 0 or size < 1:
            raise ValueError("malformed token")
        return offset, size
