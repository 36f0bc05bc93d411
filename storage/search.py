"""Full-text search over the OCR text that knows Vietnamese tone marks.

Each text is indexed twice: `exact`, where every syllable keeps its letters and its tone
moves to a digit at the end (so `hòa` and `hoà` are one token, `hoa2`, and `mất`, `mật`,
`mặt` stay three), and `folded`, without any diacritics (`mat`). A query matches a record
when all its words match one of the two; exact matches rank before folded-only ones, then
by BM25. SQLite uses FTS5 (see migration 0002); PostgreSQL uses `to_tsvector('simple')`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from ocr.text import normalize_vi
from storage.tables import SearchDoc

# combining tone marks -> digit (sắc, huyền, hỏi, ngã, nặng)
TONES = {"\u0301": "1", "\u0300": "2", "\u0309": "3", "\u0303": "4", "\u0323": "5"}
MAX_QUERY_WORDS = 16
# a tier (exact, folded) with more matches than this is ordered newest first, not by BM25
RANK_AT_MOST = 2000
_WORD = re.compile(r"\w+")


class BadQuery(ValueError):
    """A query that cannot be searched (empty, too long)."""


def words(text_: str) -> list[str]:
    """Lower-case NFC words of a text (letters and digits; every other character splits)."""
    return _WORD.findall(normalize_vi(text_).lower())


def canonical(word: str) -> str:
    """The word with its tone mark moved to a trailing digit: hòa, hoà -> hoa2."""
    decomposed = unicodedata.normalize("NFD", word)
    tone = next((TONES[c] for c in decomposed if c in TONES), "")
    bare = "".join(c for c in decomposed if c not in TONES)
    return unicodedata.normalize("NFC", bare) + tone


def fold(word: str) -> str:
    """The word without any diacritic: mặt -> mat, đường -> duong."""
    decomposed = unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def index_forms(text_: str) -> tuple[str, str]:
    """The `exact` and `folded` columns for a text."""
    ws = words(text_)
    return " ".join(canonical(w) for w in ws), " ".join(fold(w) for w in ws)


def index_text(session: Session, component_id: str, text_: str) -> None:
    """Index (or re-index) a component's text."""
    exact, folded = index_forms(text_)
    doc = session.query(SearchDoc).filter_by(component_id=component_id).one_or_none()
    if doc is None:
        session.add(SearchDoc(component_id=component_id, exact=exact, folded=folded))
    elif (doc.exact, doc.folded) != (exact, folded):
        doc.exact, doc.folded = exact, folded


@dataclass(frozen=True)
class ParsedQuery:
    exact: list[str]
    folded: list[str]


def parse_query(query: str) -> ParsedQuery:
    ws = words(query)
    if not ws:
        raise BadQuery("the query has no words to search for")
    if len(ws) > MAX_QUERY_WORDS:
        raise BadQuery(f"at most {MAX_QUERY_WORDS} words per query")
    return ParsedQuery([canonical(w) for w in ws], [fold(w) for w in ws])


def _fts5(column: str, tokens: list[str]) -> str:
    # every token is quoted (quotes doubled), so no FTS5 operator can come from the user
    phrases = " AND ".join('"' + t.replace('"', '""') + '"' for t in tokens)
    return f"{column} : ({phrases})"


@dataclass(frozen=True)
class Hit:
    component_id: str
    exact: bool
    score: float


def search_ids(
    session: Session,
    query: str,
    *,
    where_sql: str = "",
    params: dict[str, object] | None = None,
    limit: int = 20,
    offset: int = 0,
    selective: bool = False,
) -> list[Hit]:
    """Component ids matching `query`, exact-diacritic matches first, then by BM25 (newest
    first instead when a tier has more than RANK_AT_MOST matches: too common to rank).

    `where_sql` is an extra condition on `components c` (written by the caller with bound
    parameters, never with user text). `selective` says it keeps few records (an owner, a
    number): then it is applied first; otherwise the best-ranked matches are fetched first
    and filtered after, in growing batches.
    """
    q = parse_query(query)
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        if selective:
            return _sqlite_filter_first(session, q, where_sql, params or {}, limit, offset)
        return _sqlite_rank_first(session, q, where_sql, params or {}, limit, offset)
    if dialect == "postgresql":
        return _postgresql(session, q, where_sql, params or {}, limit, offset)
    raise NotImplementedError(f"full-text search on {dialect}")


def _sqlite_rank_first(
    session: Session,
    q: ParsedQuery,
    where_sql: str,
    params: dict[str, object],
    limit: int,
    offset: int,
) -> list[Hit]:
    need = offset + limit
    extra = f" AND ({where_sql})" if where_sql else ""
    keep = text(
        "SELECT d.id, d.component_id FROM search_docs d JOIN components c "
        f"ON c.id = d.component_id WHERE d.id IN (SELECT value FROM json_each(:ids)){extra}"
    )
    hits: list[Hit] = []
    seen: set[int] = set()
    for exact, match in ((True, _fts5("exact", q.exact)), (False, _fts5("folded", q.folded))):
        # BM25 costs a read per matching record: rank a tier only when it is small enough
        probe = session.execute(
            text("SELECT rowid FROM search_fts WHERE search_fts MATCH :m LIMIT :k"),
            {"m": match, "k": RANK_AT_MOST + 1},
        ).all()
        ranked = len(probe) <= RANK_AT_MOST
        order = "rank" if ranked else "rowid DESC"  # else newest first
        batch = RANK_AT_MOST if ranked else max(64, 2 * need)
        while len(hits) < need:
            rows = session.execute(
                text(
                    f"SELECT rowid, {'rank' if ranked else '0.0'} FROM search_fts "
                    f"WHERE search_fts MATCH :m ORDER BY {order} LIMIT :k"
                ),
                {"m": match, "k": batch},
            ).all()
            fresh = [(rid, score) for rid, score in rows if rid not in seen]
            seen.update(rid for rid, _ in fresh)
            if fresh:
                ids = json.dumps([rid for rid, _ in fresh])
                allowed = dict(session.execute(keep, {**params, "ids": ids}).all())
                hits += [Hit(allowed[rid], exact, s) for rid, s in fresh if rid in allowed]
            if len(rows) < batch:
                break  # every match of this tier has been seen
            batch *= 4
        if len(hits) >= need:
            break  # the folded tier only follows once the exact one is exhausted
    return hits[offset:need]


def _sqlite_filter_first(
    session: Session,
    q: ParsedQuery,
    where_sql: str,
    params: dict[str, object],
    limit: int,
    offset: int,
) -> list[Hit]:
    sql = f"""
        WITH cand AS (SELECT d.id FROM search_docs d JOIN components c ON c.id = d.component_id
                      WHERE {where_sql or "1 = 1"}),
             e AS (SELECT rowid AS id, rank AS score FROM search_fts
                   WHERE search_fts MATCH :eq AND rowid IN (SELECT id FROM cand)),
             f AS (SELECT rowid AS id, rank AS score FROM search_fts
                   WHERE search_fts MATCH :fq AND rowid IN (SELECT id FROM cand)
                   AND rowid NOT IN (SELECT id FROM e)),
             t AS (SELECT id, 0 AS tier, score FROM e UNION ALL SELECT id, 1, score FROM f)
        SELECT d.component_id, t.tier, t.score FROM t JOIN search_docs d ON d.id = t.id
        ORDER BY t.tier, t.score, d.component_id LIMIT :limit OFFSET :offset"""
    args = {**params, "eq": _fts5("exact", q.exact), "fq": _fts5("folded", q.folded)}
    rows = session.execute(text(sql), {**args, "limit": limit, "offset": offset}).all()
    return [Hit(r[0], r[1] == 0, float(r[2])) for r in rows]


def _postgresql(
    session: Session,
    q: ParsedQuery,
    where_sql: str,
    params: dict[str, object],
    limit: int,
    offset: int,
) -> list[Hit]:
    extra = f" AND ({where_sql})" if where_sql else ""
    sql = f"""
        SELECT d.component_id,
               CASE WHEN to_tsvector('simple', d.exact) @@ to_tsquery('simple', :eq)
                    THEN 0 ELSE 1 END AS tier,
               -ts_rank(to_tsvector('simple', d.folded), to_tsquery('simple', :fq)) AS score
        FROM search_docs d JOIN components c ON c.id = d.component_id
        WHERE (to_tsvector('simple', d.exact) @@ to_tsquery('simple', :eq)
               OR to_tsvector('simple', d.folded) @@ to_tsquery('simple', :fq)){extra}
        ORDER BY tier, score, d.component_id LIMIT :limit OFFSET :offset"""
    args = {**params, "eq": " & ".join(q.exact), "fq": " & ".join(q.folded)}
    rows = session.execute(text(sql), {**args, "limit": limit, "offset": offset}).all()
    return [Hit(r[0], r[1] == 0, float(r[2])) for r in rows]
