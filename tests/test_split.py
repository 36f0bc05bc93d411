"""Splitting a multi-page scan into components (classify/split.py)."""

from __future__ import annotations

from classify.corpus import generate, to_pages
from classify.split import is_separator, split_components
from models.document import PageResult
from ocr.codes import Code


def page(text: str, blank: bool = False) -> PageResult:
    return PageResult(0, 0, 0.0, text, blank=blank)


def first_pages(*codes: str) -> list[PageResult]:
    """The first page of a generated sample of each code, in that order."""
    samples = {s.code: s for s in generate(1, 5)}
    return [to_pages(samples[c])[0] for c in codes]


BLANK = page("", blank=True)
SEPARATOR = Code("qr", "SOHOA-SEPARATOR")


def test_blank_sheet_starts_a_new_component_and_is_dropped():
    a, b = first_pages("quyet_dinh", "quyet_dinh")
    assert split_components([a, BLANK, b]) == [[0], [2]]


def test_separator_code_starts_a_new_component():
    a, b = first_pages("giay_khai_sinh", "giay_khai_sinh")
    sep = page("Tờ phân cách hồ sơ")  # printed words on the cover sheet do not matter
    assert split_components([a, sep, b], [[], [SEPARATOR], []]) == [[0], [2]]


def test_other_codes_are_not_separators():
    cccd = Code("qr", "079203012345||Nguyễn Văn An|12032003|Nam||10082021")
    assert not is_separator(page("CĂN CƯỚC CÔNG DÂN"), [cccd])
    assert is_separator(page("x"), [Code("barcode", "patch t")])


def test_consecutive_pages_of_one_type_stay_together():
    land = generate(3, 11, codes=["gcn_qsdd"])
    pages = [p for s in land for p in to_pages(s)][:3]
    assert split_components(pages) == [[0, 1, 2]]


def test_a_page_of_another_type_starts_a_component():
    pages = first_pages("can_cuoc", "giay_khai_sinh", "gcn_qsdd")
    assert split_components(pages) == [[0], [1], [2]]


def test_continuation_page_that_looks_like_nothing_stays():
    decision = first_pages("quyet_dinh")[0]
    annex = page("Phụ lục kèm theo\n1. Nguyễn Văn An 2. Trần Thị Bình\n3. Lê Văn Cường")
    assert split_components([decision, annex]) == [[0, 1]]


def test_typer_is_pluggable_and_unsure_pages_never_split():
    pages = [page("a"), page("b"), page("c")]
    verdicts = {"a": ("quyet_dinh", 0.99), "b": ("ban_ve", 0.5), "c": ("ban_ve", 0.95)}
    groups = split_components(pages, typer=lambda p: verdicts[p.text])
    assert groups == [[0, 1], [2]]


def test_empty_scan_gives_no_components():
    assert split_components([]) == []
    assert split_components([BLANK, BLANK]) == []
