"""API keys: `sohoa_<id>_<secret>`, stored as the SHA-256 of the secret, with one role each."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.tables import ApiKey, utcnow

ROLES = ("clerk", "scanner", "system", "admin")


def _digest(secret: str) -> str:
    # the secret is 256 random bits: a fast hash is enough (no password stretching needed)
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    session: Session, role: str, name: str = "", allowed_types: list[str] | None = None
) -> tuple[ApiKey, str]:
    """A new key and its token; the token is shown once and never stored."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    key = ApiKey(
        id=key_id,
        secret_sha256=_digest(secret),
        role=role,
        name=name,
        allowed_types=sorted(set(allowed_types)) if allowed_types else None,
    )
    session.add(key)
    session.flush()
    return key, f"sohoa_{key_id}_{secret}"


def authenticate(session: Session, token: str) -> ApiKey | None:
    """The live key of a token, or None."""
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "sohoa" or len(parts[1]) != 12:
        return None
    key = session.get(ApiKey, parts[1])
    if key is None or key.revoked_at is not None:
        return None
    return key if hmac.compare_digest(key.secret_sha256, _digest(parts[2])) else None


def has_keys(session: Session) -> bool:
    return session.scalar(select(ApiKey.id).limit(1)) is not None


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def revoke_key(session: Session, key_id: str) -> bool:
    key = session.get(ApiKey, key_id)
    if key is None:
        return False
    key.revoked_at = key.revoked_at or utcnow()
    return True
