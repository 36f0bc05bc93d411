"""Reuse: record status, look up before scanning, link instead of re-scanning, dossier status.

A registry record is offered for reuse only when it is `verified`, of a type that may be
reused (never `ho_khau`), and not past its `hieu_luc_den`. Everything else stays
retrievable for audit but is never offered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from classify.catalogue import load_catalogue
from storage.procedures import Procedure, get_procedure
from storage.registry import owner_ids_of
from storage.tables import Component, Dossier, DossierLink, FieldRow, Owner, utcnow

TRANSITIONS = {
    "draft": {"verified", "revoked"},
    "verified": {"superseded", "revoked"},
}
ILLEGIBLE_CONFIDENCE = 50.0


class ReuseError(ValueError):
    """A reuse step that the record's state forbids (the API answers 409)."""


@cache
def never_reusable_types() -> tuple[str, ...]:
    """Types never offered for reuse (`ho_khau`), from the classifier's catalogue."""
    return tuple(sorted(t.code for t in load_catalogue().types if not t.reusable))


@cache
def known_types() -> frozenset[str]:
    return frozenset(t.code for t in load_catalogue().types)


def why_not_offered(comp: Component, today: date | None = None) -> str | None:
    """None when the record may be offered for reuse, else the reason it may not."""
    today = today or date.today()
    if comp.status != "done" or comp.registry_status is None:
        return f"not a registered result (component is {comp.status})"
    if comp.registry_status == "duplicate":
        return f"a duplicate of record {comp.duplicate_of}"
    if comp.registry_status != "verified":
        return f"record is {comp.registry_status}, not verified"
    if comp.type in never_reusable_types():
        return f"documents of type {comp.type} are void and never reused"
    if comp.valid_until and comp.valid_until < today.isoformat():
        return f"expired on {comp.valid_until}"
    return None


def offerable(stmt: Select, today: date | None = None) -> Select:
    """Restrict a select over `Component` to records that may be offered for reuse."""
    today_iso = (today or date.today()).isoformat()
    return stmt.where(
        Component.status == "done",
        Component.registry_status == "verified",
        Component.type.not_in(never_reusable_types()),
        (Component.valid_until.is_(None)) | (Component.valid_until >= today_iso),
    )


def set_status(
    session: Session, comp: Component, new: str, *, actor: str, reason: str | None = None
) -> None:
    """Move a record along draft -> verified -> superseded | revoked."""
    allowed = TRANSITIONS.get(comp.registry_status or "", set())
    if new not in allowed:
        raise ReuseError(f"a {comp.registry_status or 'unregistered'} record cannot become {new}")
    comp.registry_status = new
    if new == "verified":
        comp.verified_by, comp.verified_at = actor, utcnow()
    comp.status_reason = reason or comp.status_reason


def confirm_fields(comp: Component, values: dict[str, str]) -> None:
    """A clerk's corrections: the value becomes the clerk's, with full confidence."""
    rows = {f.name: f for f in comp.fields}
    for name, value in values.items():
        if name in rows:
            rows[name].value, rows[name].source, rows[name].confidence = value, "clerk", 1.0
        else:
            comp.fields.append(FieldRow(name=name, value=value, source="clerk", confidence=1.0))
    mirrored = {"so_ky_hieu": "doc_number", "ngay_cap": "issued_on", "co_quan_cap": "issuer"}
    mirrored |= {"hieu_luc_den": "valid_until", "pham_vi_hieu_luc": "scope"}
    for name, attr in mirrored.items():
        if name in values:
            setattr(comp, attr, values[name] or None)


def reusable_documents(
    session: Session, owner_id: str, *, types: list[str] | None = None, today: date | None = None
) -> list[Component]:
    """An owner's documents that may be reused now, newest first."""
    stmt = (
        select(Component)
        .join(Owner)
        .where(Owner.owner_id.in_(owner_ids_of(session, owner_id)))
        .options(selectinload(Component.fields), selectinload(Component.owners))
        .order_by(Component.created_at.desc())
    )
    if types is not None:
        stmt = stmt.where(Component.type.in_(types))
    return list(session.scalars(offerable(stmt, today)).unique())


@dataclass
class Lookup:
    procedure: Procedure
    documents: list[Component]
    available: dict[str, list[str]] = field(default_factory=dict)  # type -> component ids
    missing: list[str] = field(default_factory=list)  # required types with nothing to reuse


def look_up(
    session: Session, owner_id: str, procedure_code: str, *, today: date | None = None
) -> Lookup:
    """Before scanning: what the registry can already give for this owner and procedure."""
    proc = get_procedure(procedure_code)
    wanted = [*proc.required, *proc.optional]
    docs = reusable_documents(session, owner_id, types=wanted, today=today)
    found = Lookup(proc, docs)
    for t in wanted:
        found.available[t] = [d.id for d in docs if d.type == t]
    found.missing = [t for t in proc.required if not found.available[t]]
    return found


def open_dossier(session: Session, code: str, procedure_code: str | None) -> Dossier:
    """The dossier with this code, created if new; its procedure is set once."""
    if procedure_code is not None:
        get_procedure(procedure_code)
    d = session.scalar(select(Dossier).where(Dossier.code == code))
    if d is None:
        d = Dossier(code=code, procedure_code=procedure_code)
        session.add(d)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:
            d = session.scalar(select(Dossier).where(Dossier.code == code))
            assert d is not None
    if procedure_code and d.procedure_code and d.procedure_code != procedure_code:
        raise ReuseError(f"dossier {code} is for procedure {d.procedure_code}")
    d.procedure_code = d.procedure_code or procedure_code
    return d


def link_document(
    session: Session, dossier_code: str, component_id: str, *, actor: str
) -> tuple[DossierLink, bool]:
    """Reuse a registered document as a component of a dossier: a link, not a copy.

    Idempotent: linking the same document twice returns the first link and counts once.
    """
    comp = session.get(Component, component_id)
    if comp is None:
        raise KeyError(component_id)
    reason = why_not_offered(comp)
    if reason:
        raise ReuseError(f"document cannot be reused: {reason}")
    dossier = open_dossier(session, dossier_code, None)
    existing = session.scalar(
        select(DossierLink).where(
            DossierLink.dossier_id == dossier.id, DossierLink.component_id == comp.id
        )
    )
    if existing is not None:
        return existing, False
    link = DossierLink(
        dossier=dossier, component_id=comp.id, component_type=comp.type or "", linked_by=actor
    )
    session.add(link)
    session.flush()
    comp.reuse_count = (
        session.scalar(select(func.count()).where(DossierLink.component_id == comp.id)) or 0
    )
    return link, True


def is_illegible(comp: Component) -> bool:
    if comp.status == "failed":
        return True
    pages = comp.pages or []
    if comp.status != "done" or not pages:
        return False
    read = [p for p in pages if not p.get("blank") and not p.get("timed_out")]
    if not read:
        return True
    confidences = [w[5] for p in read for w in p.get("words", [])]
    return bool(confidences) and sum(confidences) / len(confidences) < ILLEGIBLE_CONFIDENCE


@dataclass
class ComponentState:
    type: str
    required: bool
    state: str  # reused, scanned, illegible, missing, pending
    component_ids: list[str]


def dossier_states(session: Session, dossier: Dossier) -> list[ComponentState]:
    """Each component type of the dossier's procedure: reused, scanned, illegible, missing
    (or pending while a scan of it is still being read)."""
    proc = get_procedure(dossier.procedure_code) if dossier.procedure_code else None
    types = [*proc.required, *proc.optional] if proc else []
    comps = list(dossier.components)
    links = list(dossier.links)
    extra = {c.type for c in comps if c.type} | {lk.component_type for lk in links}
    out = []
    for t in [*types, *sorted(extra - set(types))]:
        reused = [lk.component_id for lk in links if lk.component_type == t]
        mine = [c for c in comps if c.type == t]
        good = [c.id for c in mine if c.status == "done" and not is_illegible(c)]
        bad = [c.id for c in mine if is_illegible(c)]
        if reused:
            state, ids = "reused", reused
        elif good:
            state, ids = "scanned", good
        elif bad:
            state, ids = "illegible", bad
        else:
            state, ids = "missing", []
        out.append(ComponentState(t, bool(proc and t in proc.required), state, ids))
    pending = [c.id for c in comps if c.status in ("queued", "processing", "reviewable")]
    failed = [c.id for c in comps if c.status == "failed"]
    if pending:
        out.append(ComponentState("", False, "pending", pending))
    if failed:
        out.append(ComponentState("", False, "illegible", failed))
    return out
