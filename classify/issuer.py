"""The issuing body, ``co_quan_cap``, by three strategies the catalogue orders per type.

- ``header``: the left header block of an administrative document (Nghị định 30/2020:
  *cơ quan chủ quản* over *cơ quan ban hành*). Decision: ``co_quan_cap`` is the most
  specific body, the last line (``SỞ XÂY DỰNG``), and the line above it goes to
  ``co_quan_chu_quan`` (``UBND TỈNH TÂY NINH``), both as printed. A line starting with a
  locality (``TỈNH TÂY NINH`` under ``ỦY BAN NHÂN DÂN``) continues the line above.
- ``label``: ``Cơ quan cấp``, ``Nơi cấp``, ``Nơi đăng ký``... followed by the body.
- ``signature``: ``TM. ỦY BAN NHÂN DÂN HUYỆN ...``, ``CỤC TRƯỞNG CỤC CẢNH SÁT ...``.
"""

from __future__ import annotations

import re

from classify.doc import Doc, find_labels, make_value, stop_at, value_place
from classify.textview import Line, is_upper, key
from models.document import FieldValue

HEADER_LINES = 12
NUMBER_LINE = re.compile(r"^\W*S[oO0]\s*[:.]")
PLACE_DATE = re.compile(r",\s*ngay\s*[0-9OoIl]", re.I)
DECORATION = re.compile(r"[-_=~*.]{2,}")
NUMBERISH = re.compile(r"\d{2,}|\d\s*/")  # a number, not a stray O read as 0


def is_body(doc: Doc, text: str) -> bool:
    """Starts with a known kind of body (``SỞ``, ``UBND``, ``CÔNG AN``...)."""
    k = key(text)
    return any(k == b or k.startswith(b + " ") for b in doc.ex.bodies)


def _strip_national(doc: Doc, line: Line) -> str:
    """The line, look-alikes fixed, without the national header and motto (the two header
    columns often merge on one OCR line)."""
    keep = [True] * len(line.key)
    for pattern in doc.ex.national:  # the key view is aligned with the folded one
        for m in pattern.loose.finditer(line.key):
            keep[m.start() : m.end()] = [False] * (m.end() - m.start())
    pieces, start = [], None
    for i, kept in enumerate([*keep, False]):
        if kept and start is None:
            start = i
        elif not kept and start is not None:
            pieces.append(line.restore(start, i))
            start = None
    return " ".join(DECORATION.sub(" ", " ".join(pieces)).split()).strip(" -:")


def _is_stop(doc: Doc, line: Line) -> bool:
    if NUMBER_LINE.match(line.folded) or PLACE_DATE.search(line.folded):
        return True
    return any(c.pattern.loose.search(line.key) for t in doc.catalogue.types for c in t.titles)


def header_bodies(doc: Doc) -> list[str]:
    """Lines of the left header block of page 1, most general first."""
    out: list[str] = []
    for line in doc.pages[0].lines[:HEADER_LINES] if doc.pages else ():
        if _is_stop(doc, line):
            break
        rest = _strip_national(doc, line)
        if is_upper(rest) and sum(c.isalpha() for c in rest) >= 3:
            out.append(rest)
        elif out and (rest or not line.orig):
            break
    joined: list[str] = []
    for text in out:
        k = key(text)
        if joined and any(k.startswith(loc + " ") for loc in doc.ex.localities):
            joined[-1] += " " + text
        else:
            joined.append(text)
    return joined


def from_header(doc: Doc) -> dict[str, FieldValue]:
    """``co_quan_cap`` (and ``co_quan_chu_quan``) from the left header block."""
    bodies = header_bodies(doc)
    if not bodies:
        return {}
    out = {"co_quan_cap": make_value(bodies[-1], 0.85 if is_body(doc, bodies[-1]) else 0.6)}
    if len(bodies) > 1:
        out["co_quan_chu_quan"] = make_value(bodies[-2], 0.8)
    return out


def from_label(doc: Doc) -> dict[str, FieldValue]:
    """``co_quan_cap`` after a label; the value must start with a capital letter."""
    for hit in find_labels(doc, "co_quan_cap"):
        line, pos, _ = value_place(doc, hit)
        text = line.restore(pos, stop_at(doc, line, pos, ";(")).strip(" .,;:-")
        if text and text[0].isupper():
            base = 0.85 if is_body(doc, text) else 0.7
            return {"co_quan_cap": make_value(text, base, exact=hit.exact)}
    return {}


def signature_body(doc: Doc, line: Line) -> str | None:
    """The body named in a signature line (``TM. UBND ...``, ``GIÁM ĐỐC CÔNG AN ...``)."""
    if not line.upper:
        return None
    pos, marked = 0, False
    for pattern in doc.labels("signature_prefix"):
        m = pattern.loose.match(line.folded)
        dot = m and re.match(r"\s*\.\s*", line.folded[m.end() :])
        if m and dot:
            pos, marked = m.end() + dot.end(), True
            break
    for position in doc.ex.positions:
        rest = line.key[pos:]
        if rest == position:
            return None
        if rest.startswith(position + " "):
            pos, marked = pos + len(position) + 1, True
            break
    text = line.restore(pos, len(line.folded)).strip()
    return text if marked and is_body(doc, text) else None


def _continues(doc: Doc, line: Line | None) -> bool:
    """A capital line continuing a body name (not a position, a signer or a number)."""
    if line is None or not line.upper or NUMBERISH.search(line.folded):
        return False
    starts = [p.loose.match(line.folded) for p in doc.labels("signature_prefix")]
    if any(m and line.folded[m.end() :].lstrip().startswith(".") for m in starts):
        return False
    return not any(line.key == p or line.key.startswith(p + " ") for p in doc.ex.positions)


def from_signature(doc: Doc) -> dict[str, FieldValue]:
    """``co_quan_cap`` from the first signature line naming a body (plus its continuation)."""
    for p, i, line in doc.lines():
        body = signature_body(doc, line)
        if body:
            for n in (1, 2):
                nxt = doc.line(p, i + n)
                if not _continues(doc, nxt):
                    break
                body += " " + nxt.restore(0, len(nxt.folded))
            return {"co_quan_cap": make_value(body, 0.7)}
    return {}


STRATEGIES = {"header": from_header, "label": from_label, "signature": from_signature}


def extract_co_quan_cap(doc: Doc, strategies: tuple[str, ...]) -> dict[str, FieldValue]:
    """The first strategy that finds a body wins."""
    for name in strategies:
        found = STRATEGIES[name](doc)
        if found:
            return found
    return {}
