"""The *mã kết quả số hóa*: issued once per registry record from a configurable pattern.

The pattern is a `str.format` template over `agency`, `year`, `month`, `type` and `seq`
(the sequence number within everything else in the pattern), e.g. the default
`{agency}.KQ{year}.{seq:07d}`. A code is never reissued or changed.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

DEFAULT_PATTERN = "{agency}.KQ{year}.{seq:07d}"
DEFAULT_AGENCY = "000.00.00.H00"
# V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX: the agency is the part before the receipt date
DOSSIER_CODE = re.compile(r"^(?P<agency>[0-9A-Za-z.]+)-\d{6}-\d+$")


class _Hole:
    def __format__(self, _spec: str) -> str:
        return "{seq}"


def agency_of(dossier_code: str | None, default: str = DEFAULT_AGENCY) -> str:
    m = DOSSIER_CODE.match(dossier_code or "")
    return m["agency"] if m else default


def check_pattern(pattern: str) -> None:
    """Refuse a pattern without `{seq}` or with unknown names (at start-up, not at issue)."""
    if "{seq" not in pattern:
        raise ValueError("result code pattern must contain {seq}")
    pattern.format(agency="A", year=2000, month=1, type="t", seq=1)


def issue_code(
    session: Session, pattern: str, *, agency: str, doc_type: str, when: datetime
) -> str:
    """The next code for this pattern (the counter moves in the caller's transaction)."""
    names = {"agency": agency, "year": when.year, "month": f"{when.month:02d}", "type": doc_type}
    scope = pattern.format(**names, seq=_Hole())
    value = session.execute(
        text(
            "INSERT INTO code_counters (scope, value) VALUES (:scope, 1) "
            "ON CONFLICT (scope) DO UPDATE SET value = code_counters.value + 1 RETURNING value"
        ),
        {"scope": scope},
    ).scalar_one()
    return pattern.format(**names, seq=value)
