"""Learning from clerks: corrections of a component's type or fields, kept as JSON lines.

A correction stores what the model saw (page texts and sizes, never images), what it said
and what the clerk says it is. ``classify.train.retrain`` adds the type corrections to the
generated corpus; field corrections are measured against the extractors on every retrain
(``field_agreement``), so misses the clerks keep fixing show up as figures.

The file lives in the data dir (``<data_dir>/corrections.jsonl``): it holds personal data
like the registry itself does. Appends are single ``write`` calls under an exclusive lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.document import PageResult
from ocr.text import normalize_vi


@dataclass
class Correction:
    """One clerk's verdict on one component."""

    component_id: str
    pages: list[dict[str, Any]]  # text, width, height, dpi, blank
    predicted_type: str = ""
    type: str | None = None  # the right type, when the clerk changed or confirmed it
    fields: dict[str, str] = field(default_factory=dict)  # the right values
    clerk: str = ""
    at: float = 0.0

    def to_pages(self) -> list[PageResult]:
        return [
            PageResult(
                i,
                0,
                0.0,
                p.get("text", ""),
                width=int(p.get("width", 0)),
                height=int(p.get("height", 0)),
                dpi=int(p.get("dpi", 300)),
                blank=bool(p.get("blank", False)),
            )
            for i, p in enumerate(self.pages)
        ]


def corrections_path(data_dir: str | os.PathLike | None = None) -> Path:
    base = data_dir if data_dir is not None else os.environ.get("SOHOA_DATA_DIR", "var")
    return Path(base) / "corrections.jsonl"


def record_correction(
    path: str | os.PathLike,
    component_id: str,
    pages: Sequence[PageResult],
    *,
    predicted_type: str = "",
    type: str | None = None,
    fields: dict[str, str] | None = None,
    clerk: str = "",
) -> Correction:
    """Append one correction (a type, some fields, or both) and return it."""
    if type is None and not fields:
        raise ValueError("a correction needs a type or at least one field")
    corr = Correction(
        component_id=component_id,
        pages=[
            {"text": p.text, "width": p.width, "height": p.height, "dpi": p.dpi, "blank": p.blank}
            for p in pages
        ],
        predicted_type=predicted_type,
        type=type,
        fields={k: normalize_vi(v) for k, v in (fields or {}).items()},
        clerk=clerk,
        at=time.time(),
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(corr.__dict__, ensure_ascii=False) + "\n"
    with open(path, "a", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(line)
        f.flush()
        fcntl.flock(f, fcntl.LOCK_UN)
    return corr


def load_corrections(path: str | os.PathLike) -> list[Correction]:
    """Every correction, the latest per component winning (fields merged, later first)."""
    path = Path(path)
    if not path.is_file():
        return []
    latest: dict[str, Correction] = {}
    for raw in _lines(path):
        c = Correction(**raw)
        prev = latest.get(c.component_id)
        if prev is not None:
            c.fields = {**prev.fields, **c.fields}
            c.type = c.type if c.type is not None else prev.type
        latest[c.component_id] = c
    return list(latest.values())


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line after a crash
