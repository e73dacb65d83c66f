"""EXTERNAL_LINKS: presigned URLs to result chunks, served by the sandbox like a cloud object store.

A link is `<base>/external-results/<statement>/<chunk>?expires=<epoch s>&signature=<hmac>`, signed with a
per-run key, valid `link_ttl_s` on the sandbox clock. As with a presigned S3 URL, the request must carry no
`Authorization` header (400: clients must not send the workspace token to the storage), an expired link is
403, and errors are the object store's XML, not Databricks JSON.
"""

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from starlette.responses import Response

from ppm_sandbox.clock import SandboxClock

LINK_PATH = "/external-results"


class LinkError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> Response:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{self.message}</Message></Error>"
        )
        return Response(body, status_code=self.status, media_type="application/xml")


def expiration_text(moment: datetime) -> str:
    """`2026-01-31T10:15:00.000Z`, as Databricks writes a link's expiration."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class LinkSigner:
    def __init__(self, clock: SandboxClock, ttl_s: float) -> None:
        self.clock = clock
        self.ttl_s = ttl_s
        self._key = secrets.token_bytes(32)

    def _signature(self, statement_id: str, chunk_index: int, expires: int) -> str:
        message = f"{statement_id}/{chunk_index}/{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def link(self, base: str, statement_id: str, chunk_index: int) -> tuple[str, str]:
        """(absolute URL, expiration text) of a fresh link to one chunk."""
        expires_at = self.clock.now() + timedelta(seconds=self.ttl_s)
        expires = int(expires_at.timestamp())
        signature = self._signature(statement_id, chunk_index, expires)
        url = f"{base.rstrip('/')}{LINK_PATH}/{statement_id}/{chunk_index}?expires={expires}&signature={signature}"
        return url, expiration_text(datetime.fromtimestamp(expires, UTC))

    def verify(self, statement_id: str, chunk_index: int, expires: str | None, signature: str | None) -> None:
        try:
            deadline = int(expires or "")
        except ValueError:
            raise LinkError(403, "AccessDenied", "Query-string authentication requires expires.") from None
        expected = self._signature(statement_id, chunk_index, deadline)
        if not signature or not hmac.compare_digest(expected, signature):
            raise LinkError(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        if self.clock.timestamp() > deadline:
            raise LinkError(403, "AccessDenied", "Request has expired")
