"""QR codes, barcodes and MRZ read from page images and OCR text (ocr/codes.py)."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from ocr.codes import (
    Code,
    decode_codes,
    find_dossier_code,
    find_mrz,
    mrz_check_digit,
    parse_cccd_qr,
    parse_mrz,
)
from tests.pages import render_page

CCCD_QR = "079203012345|215123456|Nguyễn Văn An|12032003|Nam|123 Nguyễn Trãi, Quận 5|10082021"


def code_image(text: str, fmt=zxingcpp.BarcodeFormat.QRCode, scale: int = 4) -> Image.Image:
    return Image.fromarray(np.array(zxingcpp.create_barcode(text, fmt).to_image(scale=scale)))


def page_with(codes: list[tuple[Image.Image, tuple[int, int]]]) -> Image.Image:
    page = render_page(["CĂN CƯỚC CÔNG DÂN", "Số / No.: 079203012345"], dpi=150)
    for img, at in codes:
        page.paste(img.convert("RGB"), at)
    return page


def mrz_lines(number: str, birth: str, expiry: str, name: str) -> str:
    """A valid TD1 MRZ for a 12-digit ID (check digits computed, not copied)."""
    doc = number[3:]
    l1 = f"IDVNM{doc}{mrz_check_digit(doc)}{number}<<".ljust(29, "<")
    l1 += str(mrz_check_digit(l1[5:30]))
    l2 = f"{birth}{mrz_check_digit(birth)}M{expiry}{mrz_check_digit(expiry)}VNM".ljust(29, "<")
    l2 += str(mrz_check_digit(l2))
    return "\n".join([l1, l2, name.ljust(30, "<")])


def test_icao_check_digit_matches_the_specimen():
    # ICAO 9303 specimen passport: L898902C3 -> 6, 740812 -> 2, 120415 -> 9
    assert [mrz_check_digit(x) for x in ("L898902C3", "740812", "120415")] == [6, 2, 9]


def test_qr_and_barcode_found_on_a_page_with_their_boxes():
    dossier = "000.00.12.H49-231123-0001"
    page = page_with(
        [
            (code_image(CCCD_QR), (900, 1200)),
            (code_image(dossier, zxingcpp.BarcodeFormat.Code128, 2), (150, 400)),
        ]
    )
    codes = decode_codes(page)
    kinds = {c.kind: c for c in codes}
    assert kinds["qr"].text == CCCD_QR  # NFC Vietnamese survives
    assert kinds["barcode"].text == dossier
    left, top, right, bottom = kinds["qr"].box
    assert 880 <= left < right <= 900 + 200 and 1180 <= top < bottom <= 1200 + 200
    assert codes[0].kind == "barcode"  # reading order: the barcode is higher on the page


def test_qr_survives_rotation_and_large_page_downscale():
    page = page_with([(code_image(CCCD_QR), (600, 900))]).rotate(3, expand=True, fillcolor="white")
    big = page.resize((page.width * 2, page.height * 2))
    for img in (page, big):
        assert [c.text for c in decode_codes(img, max_side=1800)] == [CCCD_QR]


def test_page_without_codes_gives_nothing():
    assert decode_codes(render_page(["QUYẾT ĐỊNH", "Số: 12/QĐ-UBND"], dpi=100)) == []


def test_cccd_qr_fields():
    assert parse_cccd_qr(CCCD_QR) == {
        "ma_dinh_danh": "079203012345",
        "so_cmnd": "215123456",
        "ho_ten": "Nguyễn Văn An",
        "ngay_sinh": "2003-03-12",
        "ngay_cap": "2021-08-10",
    }


@pytest.mark.parametrize(
    "text",
    ["https://dichvucong.gov.vn/x", "07920301234|||||||", "079203012345|x|y|31022003|Nam|z|", ""],
)
def test_other_qr_texts_are_not_id_cards(text):
    fields = parse_cccd_qr(text)
    assert "ngay_sinh" not in fields  # 31/02 is not a date
    assert fields.get("ma_dinh_danh") in (None, "079203012345")


def test_dossier_code_in_any_text():
    assert find_dossier_code("Mã hồ sơ: 000.00.12.H49-231123-0001|Thủ tục 1.0001") == (
        "000.00.12.H49-231123-0001"
    )
    assert find_dossier_code("Số: 123/QĐ-UBND ngày 05/05/2023") is None


def test_mrz_found_in_ocr_text_and_parsed():
    mrz = mrz_lines("079203012345", "030312", "280312", "NGUYEN<<VAN<AN")
    ocr = "Ngón trỏ trái / Left index finger\n" + mrz.replace("<<<<", "<< <<", 1) + "\n"
    code = find_mrz(ocr)
    assert isinstance(code, Code) and code.kind == "mrz"
    assert parse_mrz(code.text) == {
        "ma_dinh_danh": "079203012345",
        "ngay_sinh": "2003-03-12",
        "hieu_luc_den": "2028-03-12",
        "ho_ten": "NGUYEN VAN AN",
    }


def test_mrz_with_a_misread_digit_is_refused():
    mrz = mrz_lines("079203012345", "030312", "280312", "NGUYEN<<VAN<AN")
    broken = mrz.replace("IDVNM203", "IDVNM208", 1)
    assert find_mrz(broken) is None
    assert parse_mrz(broken) == {}


def test_birth_year_before_2000_in_mrz():
    mrz = mrz_lines("001085000123", "850101", "450101", "TRAN<<THI<B")
    assert parse_mrz(mrz)["ngay_sinh"] == "1985-01-01"
    assert parse_mrz(mrz)["hieu_luc_den"] == "2045-01-01"
