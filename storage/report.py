"""The figures a province reports: digitization and reuse rates by period, agency and type.

- received: dossier components handed in on paper (every uploaded component);
- digitized: of those, the ones registered as a new record (not failed, not a duplicate);
- reused: dossier components given by linking an existing record instead of paper;
- digitization rate = digitized / received;
- reuse rate = reused / (reused + received): the share of components nobody had to bring.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.codes import agency_of
from storage.tables import Component, Dossier, DossierLink

GROUPS = ("period", "agency", "type")


@dataclass
class ReportRow:
    period: str
    agency: str
    type: str
    received: int = 0
    digitized: int = 0
    reused: int = 0

    @property
    def digitization_rate(self) -> float:
        return round(self.digitized / self.received, 4) if self.received else 0.0

    @property
    def reuse_rate(self) -> float:
        total = self.reused + self.received
        return round(self.reused / total, 4) if total else 0.0


def _period(at: datetime, by: str) -> str:
    return at.strftime({"year": "%Y", "month": "%Y-%m", "day": "%Y-%m-%d"}[by])


def report(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    period: str = "month",
    group_by: tuple[str, ...] = GROUPS,
) -> list[ReportRow]:
    """Rows grouped by `group_by` (a subset of period, agency, type)."""
    if period not in ("year", "month", "day"):
        raise ValueError("period must be year, month or day")
    rows: dict[tuple[str, str, str], ReportRow] = {}

    def row(at: datetime, dossier_code: str, doc_type: str | None) -> ReportRow:
        key = (
            _period(at, period) if "period" in group_by else "",
            (agency_of(dossier_code, "") or "-") if "agency" in group_by else "",
            (doc_type or "-") if "type" in group_by else "",
        )
        if key not in rows:
            rows[key] = ReportRow(*key)
        return rows[key]

    comps = select(
        Component.created_at, Component.dossier_key, Component.type, Component.registry_status
    )
    links = select(DossierLink.linked_at, Dossier.code, DossierLink.component_type).join(Dossier)
    if since:
        comps = comps.where(Component.created_at >= since)
        links = links.where(DossierLink.linked_at >= since)
    if until:
        comps = comps.where(Component.created_at < until)
        links = links.where(DossierLink.linked_at < until)
    for at, code, doc_type, reg in session.execute(comps):
        r = row(at, code, doc_type)
        r.received += 1
        r.digitized += reg is not None and reg != "duplicate"
    for at, code, doc_type in session.execute(links):
        row(at, code, doc_type).reused += 1
    return [rows[k] for k in sorted(rows)]
