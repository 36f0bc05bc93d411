"""The audit trail: who read which document or citizen's list, when and why. Append-only."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.tables import AuditEvent


def mask_id(owner_id: str) -> str:
    """An ID number safe for logs and screens: first 3 and last 2 digits only."""
    if len(owner_id) <= 5:
        return "*" * len(owner_id)
    return owner_id[:3] + "*" * (len(owner_id) - 5) + owner_id[-2:]


def subject_digest(owner_id: str) -> str:
    return hashlib.sha256(f"sohoa-subject:{owner_id}".encode()).hexdigest()


def record(
    session: Session,
    *,
    actor: str,
    role: str,
    action: str,
    target: str | None = None,
    subject: str | None = None,
    purpose: str = "",
    detail: str | None = None,
) -> None:
    """Append one event; `subject` (a citizen's ID) is kept masked and hashed, never in full."""
    session.add(
        AuditEvent(
            actor=actor,
            role=role,
            action=action,
            target=target,
            subject_masked=mask_id(subject) if subject else None,
            subject_sha256=subject_digest(subject) if subject else None,
            purpose=purpose,
            detail=detail,
        )
    )


def events(
    session: Session,
    *,
    actor: str | None = None,
    target: str | None = None,
    subject: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEvent]:
    """Events, newest first, filtered by who, which document, which citizen and when."""
    stmt = select(AuditEvent)
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor)
    if target:
        stmt = stmt.where(AuditEvent.target == target)
    if subject:
        stmt = stmt.where(AuditEvent.subject_sha256 == subject_digest(subject))
    if since:
        stmt = stmt.where(AuditEvent.at >= since)
    if until:
        stmt = stmt.where(AuditEvent.at < until)
    stmt = stmt.order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))
