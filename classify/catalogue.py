"""The component catalogue: type codes, cues and extraction vocabulary, loaded from JSON.

The packaged ``catalogue.json`` is the default; a province may pass its own file to
``load_catalogue``. Everything is validated and compiled once (patterns included), so
that a broken catalogue fails at start-up with the path of the faulty entry.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from classify.textview import canon, clean, key, phrase_pattern, strip_marks

CUE_KINDS = ("title", "phrase", "regex", "layout", "region")
LAYOUT_FEATURES = ("landscape", "portrait", "large_format", "card_size", "few_words")
REGIONS = ("bottom_right", "bottom_left", "top_left", "top_right")
VALIDATORS = ("cccd", "mst")
FIELD_STRATEGIES: dict[str, tuple[str, ...]] = {
    "ten_giay_to": (),
    "so_ky_hieu": ("symbol", "plain"),
    "ngay_cap": ("label", "place_date"),
    "co_quan_cap": ("header", "label", "signature"),
    "trich_yeu": (),
    "hieu_luc_den": (),
    "ma_dinh_danh": ("personal", "tax_code"),
    "so_cmnd": (),
    "ho_ten": (),
    "ngay_sinh": (),
    "ma_so_doanh_nghiep": (),
    "ten_doanh_nghiep": (),
    "so_phat_hanh": (),
    "mau_so": (),
    "cong_trinh": (),
    "chu_dau_tu": (),
    "ten_ban_ve": (),
    "ky_hieu_ban_ve": (),
    "ty_le": (),
}
SETTINGS_DEFAULTS = {
    "khac_score": 2.0,
    "confidence_scale": 3.0,
    "khac_confidence_factor": 0.5,
    "folded_factor": 0.8,
    "later_page_factor": 0.6,
    "few_words": 150,
    "large_format_mm": 400,
    "review_below": 0.8,
}
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


class CatalogueError(ValueError):
    """The catalogue JSON is malformed; the message names the faulty entry."""


@dataclass(frozen=True)
class Pattern:
    """A pattern compiled twice: for the NFC text and for its folded (or key) view."""

    exact: re.Pattern
    loose: re.Pattern


@dataclass(frozen=True)
class Cue:
    """One weighted piece of evidence for a type (see ``catalogue.json`` ``_doc``)."""

    kind: str
    weight: float
    source: str
    pattern: Pattern | None = None
    features: tuple[str, ...] = ()
    region: str | None = None
    group: str | None = None
    validate: str | None = None
    is_regex: bool = False


@dataclass(frozen=True)
class DocType:
    """A component type: code, Vietnamese name, reuse rule, cues, fields to extract."""

    code: str
    name: str
    reusable: bool
    cues: tuple[Cue, ...]
    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def titles(self) -> tuple[Cue, ...]:
        """The title cues, in catalogue order."""
        return tuple(c for c in self.cues if c.kind == "title")


@dataclass(frozen=True)
class Extraction:
    """Label patterns per name, plus organization vocabulary and ID number rules."""

    labels: dict[str, tuple[Pattern, ...]]
    national: tuple[Pattern, ...]  # phrases of the national header and motto
    bodies: tuple[str, ...]  # key views
    positions: tuple[str, ...]
    localities: tuple[str, ...]
    max_province: int
    century: dict[int, int]
    provinces: frozenset[str]
    symbols: frozenset[str] = frozenset()  # folded, upper case: "QD", "TTR", "UBND"


@dataclass(frozen=True)
class Catalogue:
    """The validated, compiled catalogue."""

    types: tuple[DocType, ...]
    fallback: str
    settings: dict[str, float]
    extraction: Extraction

    def get(self, code: str) -> DocType:
        for t in self.types:
            if t.code == code:
                return t
        raise KeyError(code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.types)


def _fail(where: str, why: str) -> CatalogueError:
    return CatalogueError(f"catalogue {where}: {why}")


def regex_pair(pattern: str, *, case: bool = False, where: str = "") -> Pattern:
    """Compile a regex for the canonical NFC text and, diacritics stripped, the folded text."""
    flags = re.M if case else re.M | re.I
    try:
        return Pattern(re.compile(canon(pattern), flags), re.compile(strip_marks(pattern), flags))
    except re.error as e:
        raise _fail(where, f"bad regex {pattern!r}: {e}") from e


def phrase_pair(text: str, *, anchored: bool = False) -> Pattern:
    """Compile a phrase for the canonical NFC text and for the key view."""
    exact = phrase_pattern(canon(clean(text)), anchored=anchored)
    return Pattern(
        re.compile(exact, re.I), re.compile(phrase_pattern(key(text), anchored=anchored))
    )


# a space of a label pattern (not one inside a character class) takes these marks too
LABEL_SPACE = re.compile(r"(\[(?:\\.|[^\]])*\])| +")
STRAY_MARKS = r"[\s.,;'`_-]+"


def label_pair(pattern: str, where: str) -> Pattern:
    """A label regex: whole words, case-insensitive; a space between its words also takes
    the stray marks OCR puts there (``Đăng. ký``, ``Ngày,  tháng``, ``năm-đăng ký``)."""
    pattern = LABEL_SPACE.sub(lambda m: m.group(1) or STRAY_MARKS, pattern)
    return regex_pair(rf"(?<!\w)(?:{pattern})(?!\w)", where=where)


def _cue(raw: dict[str, Any], where: str) -> Cue:
    kind = raw.get("kind")
    if kind not in CUE_KINDS:
        raise _fail(where, f"kind must be one of {CUE_KINDS}")
    weight = raw.get("weight")
    if not isinstance(weight, int | float) or isinstance(weight, bool) or weight == 0:
        raise _fail(where, "weight must be a non-zero number")
    group = raw.get("group")
    if weight < 0 and group:
        raise _fail(where, "a negative cue cannot be in a group")
    common = {"kind": kind, "weight": float(weight), "group": group}
    if kind == "layout":
        feats = tuple(raw.get("features") or ())
        if not feats or any(f not in LAYOUT_FEATURES for f in feats):
            raise _fail(where, f"features must be a non-empty list of {LAYOUT_FEATURES}")
        return Cue(source="+".join(feats), features=feats, **common)
    if kind == "region" and raw.get("region") not in REGIONS:
        raise _fail(where, f"region must be one of {REGIONS}")
    validate = raw.get("validate")
    if validate is not None and validate not in VALIDATORS:
        raise _fail(where, f"validate must be one of {VALIDATORS}")
    text, pattern = raw.get("text"), raw.get("pattern")
    if kind == "regex" or (kind == "region" and pattern):
        if not isinstance(pattern, str) or not pattern:
            raise _fail(where, "a regex cue needs a non-empty 'pattern'")
        compiled = regex_pair(pattern, case=bool(raw.get("case")), where=where)
        return Cue(
            source=pattern,
            pattern=compiled,
            region=raw.get("region"),
            validate=validate,
            is_regex=True,
            **common,
        )
    if not isinstance(text, str) or not text.split():
        raise _fail(where, "a title/phrase/region cue needs a non-empty 'text'")
    compiled = phrase_pair(text, anchored=kind == "title")
    return Cue(source=text, pattern=compiled, region=raw.get("region"), **common)


def _fields(raw: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise _fail(where, "'fields' must map field names to lists of strategies")
    out = {}
    for name, strategies in raw.items():
        if name not in FIELD_STRATEGIES:
            raise _fail(f"{where}.{name}", f"unknown field; known: {sorted(FIELD_STRATEGIES)}")
        allowed = FIELD_STRATEGIES[name]
        if not isinstance(strategies, list) or any(s not in allowed for s in strategies):
            raise _fail(f"{where}.{name}", f"strategies must be a list drawn from {allowed}")
        out[name] = tuple(strategies) or allowed
    return out


def _type(raw: Any, where: str) -> DocType:
    if not isinstance(raw, dict):
        raise _fail(where, "a type must be an object")
    code = raw.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        raise _fail(where, "code must match [a-z][a-z0-9_]*")
    where = f"type {code}"
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail(where, "name must be a non-empty string")
    if not isinstance(raw.get("reusable"), bool):
        raise _fail(where, "reusable must be true or false")
    cues = raw.get("cues", [])
    if not isinstance(cues, list):
        raise _fail(where, "cues must be a list")
    return DocType(
        code=code,
        name=name,
        reusable=raw["reusable"],
        cues=tuple(_cue(c, f"{where} cue {i}") for i, c in enumerate(cues)),
        fields=_fields(raw.get("fields", {}), f"{where} fields"),
    )


def _settings(raw: Any) -> dict[str, float]:
    raw = raw or {}
    unknown = set(raw) - set(SETTINGS_DEFAULTS)
    if unknown:
        raise _fail("settings", f"unknown keys {sorted(unknown)}")
    out = {**SETTINGS_DEFAULTS, **raw}
    for k, v in out.items():
        if not isinstance(v, int | float) or isinstance(v, bool) or v <= 0:
            raise _fail(f"settings.{k}", "must be a positive number")
    return {k: float(v) for k, v in out.items()}


def _extraction(raw: Any) -> Extraction:
    if not isinstance(raw, dict) or not isinstance(raw.get("labels"), dict):
        raise _fail("extraction", "needs a 'labels' object")
    labels = {}
    for name, pats in raw["labels"].items():
        if not isinstance(pats, list) or not all(isinstance(p, str) and p for p in pats):
            raise _fail(f"extraction.labels.{name}", "must be a list of regexes")
        labels[name] = tuple(label_pair(p, f"extraction.labels.{name}") for p in pats)
    org = raw.get("org") or {}
    cccd = raw.get("cccd") or {}
    try:
        century = {int(k): int(v) for k, v in cccd.get("century_digits", {}).items()}
        max_province = int(cccd.get("max_province", 96))
    except (TypeError, ValueError) as e:
        raise _fail("extraction.cccd", str(e)) from e
    symbols = (raw.get("symbols") or {}).get("types", [])
    if not isinstance(symbols, list) or not all(isinstance(x, str) and x.strip() for x in symbols):
        raise _fail("extraction.symbols.types", "must be a list of abbreviations")
    national = raw.get("national_header") or []
    if not all(isinstance(p, str) and p.split() for p in national):
        raise _fail("extraction.national_header", "must be a list of phrases")
    return Extraction(
        labels=labels,
        national=tuple(phrase_pair(p) for p in national),
        bodies=tuple(key(b) for b in org.get("bodies", ())),
        positions=tuple(sorted((key(p) for p in org.get("positions", ())), key=len, reverse=True)),
        localities=tuple(key(p) for p in org.get("localities", ())),
        max_province=max_province,
        century=century or {0: 1900, 1: 1900, 2: 2000, 3: 2000},
        provinces=frozenset(cccd.get("province_codes", ())),
        symbols=frozenset(strip_marks(x.strip()).upper() for x in symbols),
    )


def parse_catalogue(data: dict[str, Any]) -> Catalogue:
    """Validate and compile a catalogue given as parsed JSON."""
    if not isinstance(data, dict) or not isinstance(data.get("types"), list):
        raise _fail("root", "needs a 'types' list")
    types = tuple(_type(t, f"types[{i}]") for i, t in enumerate(data["types"]))
    codes = [t.code for t in types]
    if len(set(codes)) != len(codes):
        raise _fail("types", "duplicate codes")
    fallback = data.get("fallback", "khac")
    if fallback not in codes:
        raise _fail("fallback", f"{fallback!r} is not a type code")
    if next(t for t in types if t.code == fallback).cues:
        raise _fail("fallback", "the fallback type takes no cues")
    return Catalogue(
        types, fallback, _settings(data.get("settings")), _extraction(data.get("extraction"))
    )


@lru_cache(maxsize=8)
def load_catalogue(path: str | None = None) -> Catalogue:
    """The catalogue from ``path``, or the packaged ``catalogue.json``; cached per path, so
    an edited file is read again only by a new process."""
    if path is None:
        text = resources.files("classify").joinpath("catalogue.json").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise _fail("json", str(e)) from e
    return parse_catalogue(data)


def is_reusable(code: str, catalogue: Catalogue | None = None) -> bool:
    """Whether a digitized component of this type may be offered for reuse."""
    return (catalogue or load_catalogue()).get(code).reusable
