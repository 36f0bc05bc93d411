"""The procedure catalogue, kept as data (procedures.json): which components a procedure needs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CATALOGUE = Path(__file__).with_name("procedures.json")


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    national_code: str | None = None


@cache
def load_procedures(path: Path = CATALOGUE) -> dict[str, Procedure]:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return {
        p["code"]: Procedure(
            code=p["code"],
            name=p["name"],
            required=tuple(p["required"]),
            optional=tuple(p.get("optional", ())),
            national_code=p.get("national_code"),
        )
        for p in raw["procedures"]
    }


def get_procedure(code: str) -> Procedure:
    """The procedure, or KeyError naming the unknown code."""
    try:
        return load_procedures()[code]
    except KeyError:
        raise KeyError(f"unknown procedure code: {code}") from None
