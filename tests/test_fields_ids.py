"""Personal IDs that contradict the birth date beside them, settled by OCR confidences."""

from __future__ import annotations

import pytest

from classify import classify_component
from classify.ids import cccd_for_year
from models.document import FieldValue, PageResult, Word

FORM = """CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
TỜ KHAI THAY ĐỔI THÔNG TIN CƯ TRÚ
Kính gửi: Công an phường 3
1. Họ, chữ đệm và tên: VŨ MỸ HOA
2. Ngày, tháng, năm sinh: {birth} 3. Giới tính: Nữ
4. Số định danh cá nhân: {number} 5. Số điện thoại: 0946094090
"""


def form_page(number: str, birth: str, id_conf: float | None, birth_conf: float | None):
    """The form as OCR would return it, with the words' confidences when given."""
    words = []
    if id_conf is not None:
        words.append(Word(number, 500, 450, 180, 40, id_conf, 6))
    if birth_conf is not None:
        words.append(Word(birth, 500, 420, 130, 40, birth_conf, 5))
    words.append(Word("0946094090", 890, 450, 150, 40, 96.0, 6))
    text = FORM.format(number=number, birth=birth)
    return PageResult(index=0, rotation=0, skew=0.0, text=text, words=words)


def id_of(page: PageResult) -> FieldValue | None:
    return classify_component([page]).fields.get("ma_dinh_danh")


def test_birth_date_misread_keeps_the_surer_id_flagged_for_review():
    # the ID says born 2019; the birth date, read with less confidence, says 2018
    found = id_of(form_page("075219174820", "18/09/2018", id_conf=95.0, birth_conf=75.0))
    assert found is not None and found.value == "075219174820"
    assert found.confidence < 0.8  # highlighted for the clerk


def test_id_digit_misread_takes_its_year_from_the_surer_birth_date():
    # "79" of the year read as "76" in the ID; the birth date was read with more confidence
    found = id_of(form_page("072176310273", "13/03/1979", id_conf=76.0, birth_conf=90.0))
    assert found is not None and found.value == "072179310273"
    assert found.confidence < 0.8


def test_consistent_id_keeps_its_usual_confidence():
    found = id_of(form_page("072179310273", "13/03/1979", id_conf=76.0, birth_conf=90.0))
    assert found is not None and found.value == "072179310273"
    assert found.confidence >= 0.8


@pytest.mark.parametrize(
    ("number", "birth", "id_conf", "birth_conf"),
    [
        ("072176310273", "13/03/1979", None, 90.0),  # no confidence for the ID
        ("072176310273", "13/03/1979", 76.0, None),  # none for the birth date
        ("072166310273", "13/03/1979", 99.0, 20.0),  # two digits apart: not one misreading
        ("072379310273", "13/03/1979", 99.0, 20.0),  # century digit wrong and sex changed
    ],
)
def test_contradiction_not_explained_by_one_digit_leaves_the_id_empty(
    number, birth, id_conf, birth_conf
):
    assert id_of(form_page(number, birth, id_conf, birth_conf)) is None


def test_id_label_whose_first_word_was_lost():
    text = FORM.format(number="072179310273", birth="13/03/1979").replace(
        "4. Số định danh", "Tan đc _ 8 định danh"
    )
    page = PageResult(index=0, rotation=0, skew=0.0, text=text)
    assert id_of(page).value == "072179310273"


def test_cccd_for_year_keeps_the_sex_and_changes_the_century():
    assert cccd_for_year("072176310273", 1979) == "072179310273"
    assert cccd_for_year("072376310273", 1976) == "072176310273"  # female born 1900s
    assert cccd_for_year("072076310273", 2005) == "072205310273"  # male born 2000s
    assert cccd_for_year("072076310273", 1850) is None  # no digit for the 1800s
