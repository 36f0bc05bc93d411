"""API keys on the HTTP API: `X-API-Key: <token>` or `Authorization: Bearer <token>`.

A missing or invalid key gets 401, a key whose role may not call the endpoint 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from storage.auth import authenticate

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKey")
bearer = HTTPBearer(auto_error=False, scheme_name="Bearer")


@dataclass(frozen=True)
class Caller:
    key_id: str
    role: str
    allowed_types: tuple[str, ...] | None = None

    def may_read(self, doc_type: str | None) -> bool:
        return self.allowed_types is None or (doc_type or "") in self.allowed_types


def require(*roles: str) -> Callable[..., Caller]:
    """A dependency admitting only keys of these roles."""

    def caller(
        request: Request,
        key: Annotated[str | None, Security(api_key_header)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    ) -> Caller:
        token = key or (credentials.credentials if credentials else None)
        if not token:
            raise HTTPException(
                401,
                "an API key is required: send X-API-Key or Authorization: Bearer",
                headers={"WWW-Authenticate": "Bearer"},
            )
        with request.app.state.ctx.sessions() as session:
            found = authenticate(session, token)
            if found is None:
                raise HTTPException(
                    401, "invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"}
                )
            who = Caller(
                found.id,
                found.role,
                tuple(found.allowed_types) if found.allowed_types is not None else None,
            )
        if who.role not in roles:
            raise HTTPException(403, f"role {who.role} may not do this ({', '.join(roles)} only)")
        return who

    return caller
