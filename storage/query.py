"""The registry query of processing systems: filters, full text, pagination."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from storage.registry import owner_ids_of
from storage.search import search_ids
from storage.tables import Component, Owner

MAX_PAGE_SIZE = 200


@dataclass
class DocumentQuery:
    owner_id: str | None = None
    type: str | None = None
    number: str | None = None
    issued_from: str | None = None  # ISO dates, inclusive
    issued_to: str | None = None
    issuer: str | None = None
    status: str | None = None  # registry status
    text: str | None = None
    allowed_types: list[str] | None = None  # a `system` key's limit
    limit: int = 20
    offset: int = 0


def _conditions(session: Session, q: DocumentQuery) -> tuple[list[str], dict[str, object]]:
    """SQL conditions over `components c` with bound parameters (never user text in SQL)."""
    where = ["c.registry_status IS NOT NULL", "c.duplicate_of IS NULL"]
    params: dict[str, object] = {}
    if q.owner_id:
        ids = owner_ids_of(session, q.owner_id)
        names = [f"o{i}" for i in range(len(ids))]
        params |= dict(zip(names, ids, strict=True))
        where.append(
            "c.id IN (SELECT component_id FROM owners WHERE owner_id IN ("
            + ", ".join(f":{n}" for n in names)
            + "))"
        )
    for col, value in (
        ("type", q.type),
        ("doc_number", q.number),
        ("issuer", q.issuer),
        ("registry_status", q.status),
    ):
        if value:
            where.append(f"c.{col} = :{col}")
            params[col] = value
    if q.issued_from:
        where.append("c.issued_on >= :issued_from")
        params["issued_from"] = q.issued_from
    if q.issued_to:
        where.append("c.issued_on <= :issued_to")
        params["issued_to"] = q.issued_to
    if q.allowed_types is not None:
        names = [f"t{i}" for i in range(len(q.allowed_types))] or ["t_none"]
        params |= dict(zip(names, q.allowed_types or [""], strict=True))
        where.append("c.type IN (" + ", ".join(f":{n}" for n in names) + ")")
    return where, params


def find_documents(session: Session, q: DocumentQuery) -> tuple[list[Component], bool]:
    """Matching records (text matches ranked exact-diacritics first) and whether more follow."""
    where, params = _conditions(session, q)
    if q.text:
        hits = search_ids(
            session,
            q.text,
            where_sql=" AND ".join(where),
            params=params,
            limit=q.limit + 1,
            offset=q.offset,
            selective=bool(q.owner_id or q.number),
        )
        ids = [h.component_id for h in hits]
    else:
        stmt = select(Component.id).where(
            Component.registry_status.is_not(None), Component.duplicate_of.is_(None)
        )
        if q.owner_id:
            stmt = stmt.where(
                Component.id.in_(
                    select(Owner.component_id).where(
                        Owner.owner_id.in_(owner_ids_of(session, q.owner_id))
                    )
                )
            )
        for attr, value in (
            (Component.type, q.type),
            (Component.doc_number, q.number),
            (Component.issuer, q.issuer),
            (Component.registry_status, q.status),
        ):
            if value:
                stmt = stmt.where(attr == value)
        if q.issued_from:
            stmt = stmt.where(Component.issued_on >= q.issued_from)
        if q.issued_to:
            stmt = stmt.where(Component.issued_on <= q.issued_to)
        if q.allowed_types is not None:
            stmt = stmt.where(Component.type.in_(q.allowed_types))
        stmt = stmt.order_by(Component.created_at.desc(), Component.id)
        ids = list(session.scalars(stmt.limit(q.limit + 1).offset(q.offset)))
    more = len(ids) > q.limit
    ids = ids[: q.limit]
    rows = session.scalars(
        select(Component)
        .where(Component.id.in_(ids))
        .options(selectinload(Component.fields), selectinload(Component.owners))
    )
    by_id = {c.id: c for c in rows}
    return [by_id[i] for i in ids if i in by_id], more
