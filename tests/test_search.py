"""Full-text search: both tone-mark placements, queries with or without diacritics, exact
diacritics ranked first, and FTS metacharacters treated as text."""

from __future__ import annotations

import pytest

from storage.search import BadQuery, canonical, fold, search_ids
from tests.registry_helpers import register


def test_canonical_form_joins_tone_placements_and_keeps_words_apart() -> None:
    assert canonical("hòa") == canonical("hoà") == "hoa2"
    assert canonical("thủy") == canonical("thuỷ")
    assert len({canonical(w) for w in ("mất", "mật", "mặt", "mát", "mat")}) == 5
    assert fold("Đường") == "Duong" and fold("mặt") == "mat"


def _ids(session, q: str) -> list[str]:
    return [h.component_id for h in search_ids(session, q)]


def test_search_matches_tone_placements_and_ranks_exact_diacritics_first(sessions) -> None:
    with sessions.begin() as s:
        lost = register(s, "Giấy báo mất chứng minh nhân dân tại phường Hoà Bình", key="a")
        secret = register(s, "Tài liệu mật của ủy ban", key="b")
        face = register(s, "Ảnh mặt trước căn cước", key="c")
        hoa = register(s, "Cộng hòa xã hội chủ nghĩa Việt Nam", key="d")
    with sessions() as s:
        assert _ids(s, "mất")[0] == lost
        assert set(_ids(s, "mất")) == {lost, secret, face}  # folded matches follow
        assert _ids(s, "mật")[0] == secret and _ids(s, "mặt")[0] == face
        assert search_ids(s, "mất")[0].exact and not search_ids(s, "mất")[1].exact
        assert set(_ids(s, "mat")) == {lost, secret, face}  # typed without diacritics
        assert set(_ids(s, "hoà")) == {hoa, lost} == set(_ids(s, "hòa"))
        assert _ids(s, "cong hoa xa hoi") == [hoa]
        assert _ids(s, "CỘNG HOÀ") == [hoa]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"', None),
        ("(((", None),
        ("mất OR", 0),  # OR is a word here, not an operator: every word must match
        ("exact:mất", 0),
        ('"mất"', 1),
        ("mất*", 1),
        ("NEAR(mất báo)", 0),
        ("'; DROP TABLE components; --", 0),
        ("^giấy", 1),
    ],
)
def test_metacharacters_are_text_not_syntax(sessions, query: str, expected: int | None) -> None:
    with sessions.begin() as s:
        register(s, "Giấy báo mất", key="a")
    with sessions() as s:
        try:
            hits = search_ids(s, query)  # quoted tokens only: never an FTS5 syntax error
        except BadQuery:
            assert expected is None
        else:
            assert len(hits) == expected


def test_empty_or_overlong_query_is_refused(sessions) -> None:
    with sessions() as s, pytest.raises(BadQuery):
        search_ids(s, " ... ")
    with sessions() as s, pytest.raises(BadQuery):
        search_ids(s, " ".join(["a"] * 40))


@pytest.mark.parametrize(("selective", "rank_at_most"), [(False, 2000), (True, 2000), (False, 5)])
def test_pages_cover_every_hit_once_exact_first_and_filters_apply(
    sessions, selective, rank_at_most, monkeypatch
) -> None:
    monkeypatch.setattr("storage.search.RANK_AT_MOST", rank_at_most)  # 5: newest-first path
    with sessions.begin() as s:
        exact = {register(s, f"Giấy báo mất số {i}", key=f"e{i}") for i in range(40)}
        folded = {register(s, f"Tài liệu mật số {i}", key=f"f{i}") for i in range(40)}
        register(s, "Giấy báo mất khác loại", key="other", doc_type="can_cuoc")
    with sessions() as s:
        where, params = "c.type = :t", {"t": "quyet_dinh"}
        pages = [
            search_ids(
                s, "mất", where_sql=where, params=params, limit=7, offset=o, selective=selective
            )  # fmt: skip
            for o in range(0, 84, 7)
        ]
        hits = [h for page in pages for h in page]
        assert [h.component_id for h in hits[:40]] and {h.component_id for h in hits[:40]} == exact
        assert {h.component_id for h in hits[40:]} == folded and len(hits) == 80
        assert all(h.exact for h in hits[:40]) and not any(h.exact for h in hits[40:])
