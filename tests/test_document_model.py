"""Pages as the registry stores them: every attribute survives the round trip."""

from __future__ import annotations

import json

from models.document import Code, PageResult, Word, page_from_dict, page_to_dict


def test_a_page_survives_storage_as_json() -> None:
    page = PageResult(
        index=2, rotation=270, skew=-1.25, text="Số: 12/QĐ-UBND", dpi=200, blank=False,
        timed_out=True, warnings=["page timed out"],
        words=[Word("Số:", 10, 20, 30, 12, 91.5, 0), Word("12/QĐ-UBND", 45, 20, 90, 12, 88.0, 0)],
        codes=[Code("qr", "079203012345|Nguyễn Văn An", "QRCode", (1, 2, 3, 4))],
        width=1654, height=2339,
    )  # fmt: skip
    stored = json.loads(json.dumps(page_to_dict(page), ensure_ascii=False))
    assert stored["words"][1] == ["12/QĐ-UBND", 45, 20, 90, 12, 88.0, 0]  # compact lists
    assert page_from_dict(stored) == page
    stored = page_to_dict(page)
    stored["warnings"].append("changed")  # the stored form is a copy, not the page's list
    assert page.warnings == ["page timed out"]
