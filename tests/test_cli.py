"""`sohoa digitize --json`: the public contract, end to end with real Tesseract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import word_recall

CONTRACT_KEYS = {"id", "source", "type", "type_confidence", "pages", "fields", "pdf"}


def sohoa(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOHOA_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=Path(__file__).parent.parent,
    )


def pdftotext(path: str) -> str:
    return subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True).stdout


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "cli-var"


def test_upside_down_and_skewed_page_reads_as_well_as_upright(
    scan_file, data_dir: Path, decision_words: list[str]
) -> None:
    upright = scan_file("upright.png")
    turned = scan_file("turned.jpg", rotation=180, skew=8.0, fmt="jpeg")
    proc = sohoa("digitize", "--json", str(upright), str(turned), data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # stdout holds the JSON document and nothing else
    a, b = doc["components"]
    for comp, source in ((a, upright), (b, turned)):
        assert comp.keys() >= CONTRACT_KEYS
        assert comp["source"] == str(source)
        assert comp["type"] == "quyet_dinh" and 0.8 < comp["type_confidence"] <= 1
        assert comp["needs_review"] is False
        assert comp["fields"]["so_ky_hieu"] == "123/QĐ-UBND"
        assert comp["fields"]["ngay_cap"] == "2023-05-05"
        assert Path(comp["pdf"]).is_file()
        assert word_recall(decision_words, comp["pages"][0]["text"]) >= 0.97
    assert a["pages"][0]["rotation"] == 0 and abs(a["pages"][0]["skew"]) < 0.3
    assert b["pages"][0]["rotation"] == 180 and abs(b["pages"][0]["skew"] - 8.0) < 0.3
    recall_upright = word_recall(decision_words, a["pages"][0]["text"])
    recall_turned = word_recall(decision_words, b["pages"][0]["text"])
    assert recall_turned >= recall_upright - 0.02
    # the PDF's invisible text layer returns what was read
    assert word_recall(decision_words, pdftotext(b["pdf"])) >= 0.97


@pytest.mark.parametrize(("rotation", "skew"), [(90, -6.5), (270, 12.0)])
def test_sideways_pages_are_turned_upright(
    scan_file, data_dir: Path, decision_words: list[str], rotation: int, skew: float
) -> None:
    path = scan_file(f"side{rotation}.png", rotation=rotation, skew=skew)
    proc = sohoa("digitize", "--json", str(path), data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    (page,) = json.loads(proc.stdout)["components"][0]["pages"]
    assert page["rotation"] == rotation
    assert abs(page["skew"] - skew) < 0.3
    assert word_recall(decision_words, page["text"]) >= 0.97


def test_bad_file_fails_alone_and_is_kept(scan_file, data_dir: Path, tmp_path: Path) -> None:
    good = scan_file("good.png")
    bad = tmp_path / "notes.txt"
    bad.write_text("not a scan")
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    proc = sohoa("digitize", "--json", str(bad), str(good), str(empty), data_dir=data_dir)
    assert proc.returncode == 1
    assert "notes.txt: not a PNG, JPEG, TIFF or PDF" in proc.stderr
    assert "empty.pdf: empty file" in proc.stderr
    bad_c, good_c, empty_c = json.loads(proc.stdout)["components"]
    assert good_c["status"] == "done" and good_c["type"] == "quyet_dinh"
    assert bad_c["status"] == "failed" and bad_c["error"]
    assert empty_c["status"] == "failed"
    # the refused original is kept, content-addressed, like every other
    kept = list((data_dir / "objects" / "originals").rglob(bad_c["sha256"]))
    assert len(kept) == 1 and kept[0].read_text() == "not a scan"


def test_owner_is_registered_and_a_second_run_reuses_the_result(scan_file, data_dir: Path) -> None:
    path = scan_file("decision.png")
    first = sohoa("digitize", "--json", "--owner", "079203012345", str(path), data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    again = sohoa("digitize", "--json", str(path), data_dir=data_dir)
    c1, c2 = (json.loads(p.stdout)["components"][0] for p in (first, again))
    assert c1["id"] == c2["id"] and c2["owners"] == ["079203012345"]
    assert c1["pages"] == c2["pages"]
    missing = sohoa("digitize", str(data_dir / "nope.png"), data_dir=data_dir)
    assert missing.returncode == 1 and "nope.png" in missing.stderr


def test_id_card_qr_is_read_through_the_pipeline_and_wins_over_ocr(
    tmp_path: Path, data_dir: Path
) -> None:
    import numpy as np
    import zxingcpp
    from PIL import Image

    from tests.conftest import png_bytes
    from tests.pages import distort, render_page

    qr_text = "079203012345|123456789|Nguyễn Văn An|12032003|Nam|12 Lê Lợi, Quận 1|05052021"
    card = render_page(
        [
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            "CĂN CƯỚC CÔNG DÂN",
            "Số / No.: 079203012345",
            "Họ và tên / Full name: NGUYỄN VĂN AN",
            "Ngày sinh / Date of birth: 12/03/2003",
        ],
        dpi=200,
        font_pt=11,
        color=False,
    )
    qr = Image.fromarray(
        np.array(zxingcpp.create_barcode(qr_text, zxingcpp.BarcodeFormat.QRCode).to_image(scale=6))
    )
    card.paste(qr.convert("RGB"), (card.width - qr.width - 150, 1000))
    path = tmp_path / "cccd.png"
    path.write_bytes(png_bytes(distort(card, rotation=180, skew=3.0)))
    proc = sohoa("digitize", "--json", str(path), data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    (comp,) = json.loads(proc.stdout)["components"]
    assert comp["pages"][0]["rotation"] == 180
    assert comp["type"] == "can_cuoc"
    assert comp["fields"]["ma_dinh_danh"] == "079203012345"
    assert comp["field_sources"]["ma_dinh_danh"]["source"] == "qr"
    assert comp["fields"]["ngay_sinh"] == "2003-03-12"
    assert comp["owners"] == ["079203012345", "123456789"]  # the old CMND is linked
