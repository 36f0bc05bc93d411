"""The counter page in a real browser (Playwright driving Debian's Chromium, headless).

One dossier end to end, asserting on what the page shows: sign in (a wrong key first), the
citizen's ID read from the card's QR, look up first, one-click reuse, upload of a generated
A4 page with live per-page progress, review (thumbnails, type, fields with their source), a
correction, confirmation with Enter, a scan arriving in the drop folder by itself, and the
receipt. A screenshot of every step goes to var/test-artifacts/counter/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image, ImageDraw

import api.pipeline
from tests.conftest import png_bytes
from tests.pages import DECISION, distort, font, render_page
from tests.test_counter_api import CCCD_QR, OWNER, PROCEDURE, LiveServer, card_image

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "var" / "test-artifacts" / "counter"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's Chromium (/usr/bin/chromium) is not installed"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("counter-browser") / "var") as s:
        yield s


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    b = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    yield b
    b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="vi-VN")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def shot(page, name: str, detail: str | None = None) -> None:
    """The whole page, and the part of it a README screenshot shows (`detail`, a selector)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    if detail:
        keys = page.locator("footer.keys")
        keys.evaluate("e => { e.style.visibility = 'hidden'; }")
        page.locator(detail).screenshot(path=str(ARTIFACTS / f"{name}-detail.png"))
        keys.evaluate("e => { e.style.visibility = ''; }")


def test_a_whole_dossier_at_the_counter(server: LiveServer, page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    record, reused_code = server.register_id_card()
    expect.set_options(timeout=20_000)

    # 1. sign in: a wrong key is refused in Vietnamese, the clerk's key lets in
    page.goto(server.url + "/")
    assert page.url.endswith("/counter/")
    page.fill("#api-key", "sohoa_wrong")
    page.press("#api-key", "Enter")
    expect(page.locator("#message")).to_contain_text("Khóa API không đúng")
    shot(page, "01-sign-in-wrong-key")
    page.fill("#api-key", server.clerk)
    page.press("#api-key", "Enter")
    expect(page.locator("#start")).to_be_visible()
    expect(page.locator("#dossier-code")).to_have_value(re.compile(r"-\d{6}-\d{4}$"))

    # 2. the citizen's ID from the chip card's QR, then the procedure
    card = tmp_path / "the-can-cuoc.jpg"
    card.write_bytes(card_image())
    page.set_input_files("#card-file", str(card))
    expect(page.locator("#owner-id")).to_have_value(OWNER)
    expect(page.locator("#owner-name")).to_contain_text("Nguyễn Văn An")
    page.select_option("#procedure", PROCEDURE)
    code = page.input_value("#dossier-code")
    shot(page, "02-start-dossier")
    page.press("#dossier-code", "Enter")

    # 3. look up first: the ID card is on file (reuse), the drawing must be scanned
    expect(page.locator("#dossier")).to_be_visible()
    id_row = page.locator('#reuse tr[data-type="can_cuoc"]')
    expect(id_row).to_contain_text("Đã có, dùng lại được")
    expect(id_row).to_contain_text(reused_code)
    expect(page.locator('#reuse tr[data-type="ban_ve"]')).to_contain_text("Cần quét")
    shot(page, "03-look-up-first", "#dossier .duo")
    id_row.get_by_role("button", name="Dùng lại").click()
    expect(id_row).to_contain_text("✓ Đã dùng lại")
    expect(id_row.locator("td.state")).to_have_text("Dùng lại")

    # 4. upload a generated two-page scan (A4 decision turned and skewed, then an annex):
    # live progress per page, not a spinner
    scan = tmp_path / "quyet-dinh.tif"
    decision = distort(render_page(DECISION, dpi=300), rotation=90, skew=-3)
    annex = render_page(["PHỤ LỤC", "Danh mục hồ sơ kèm theo"], paper="A5", dpi=150)
    decision.save(scan, "TIFF", save_all=True, append_images=[annex], dpi=(300, 300),
                  compression="tiff_lzw")  # fmt: skip
    page.set_input_files("#files", str(scan))
    item = page.locator("#components li[data-id]").first
    progress = item.locator(".progress li").first
    expect(progress).to_contain_text(re.compile(r"Trang 1: đang (chờ|đọc)"))
    shot(page, "04-live-progress", "#dossier .split")
    expect(progress).to_contain_text(re.compile(r"Trang 1: xong \d+,\d s"), timeout=60_000)

    # 5. review: thumbnails before/after, type with confidence, fields with their source
    review = page.locator("#review")
    expect(review).to_be_visible()
    expect(page.locator("#doc-type")).to_have_value("quyet_dinh")
    expect(page.locator("#type-confidence")).to_contain_text("độ tin cậy")
    expect(page.locator("#f-so_ky_hieu")).to_have_value("123/QĐ-UBND")
    expect(page.locator('[data-field="so_ky_hieu"] .badge')).to_contain_text("OCR")
    expect(page.locator("#f-ngay_cap")).to_have_value("05/05/2023")
    expect(review.locator(".page").first.locator("figcaption")).to_have_text(
        ["Bản quét", "Sau khi xoay, chỉnh nghiêng"]
    )
    page.wait_for_function(
        "[...document.querySelectorAll('#pages img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    sizes = review.locator("#pages img").evaluate_all(
        "imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])"
    )
    assert sizes[0][0] > sizes[0][1] and sizes[1][1] > sizes[1][0]  # turned upright
    expect(review.locator(".page").first).to_contain_text("xoay 90°")
    shot(page, "05-review")

    if hasattr(api.pipeline, "edit_pages"):
        _edit_pages(page, tmp_path)

    # the clerk corrects a field and confirms with Enter
    page.fill("#f-co_quan_cap", "Sở Xây dựng tỉnh Tây Ninh")
    expect(page.locator('[data-field="co_quan_cap"]')).to_have_class(re.compile("changed"))
    page.press("#f-co_quan_cap", "Enter")
    expect(page.locator("#review-status")).to_contain_text("Đã xác nhận", timeout=20_000)
    expect(page.locator("#review-status")).to_contain_text("Mã kết quả số hóa")
    expect(page.locator('[data-field="co_quan_cap"] .badge')).to_contain_text("cán bộ")
    expect(page.locator("#f-co_quan_cap")).to_have_value("Sở Xây dựng tỉnh Tây Ninh")
    expect(page.locator("#message")).to_contain_text("Đã xác nhận")
    result_code = page.locator("#review-status").inner_text().split("Mã kết quả số hóa:")[1].strip()
    shot(page, "06-confirmed", "#dossier .split")

    # a scan saved straight into the dossier's drop folder appears by itself
    folder = server.settings.inbox / code
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["ĐƠN ĐỀ NGHỊ", "Kính gửi: Ủy ban nhân dân"]
    small = png_bytes(render_page(lines, paper="A5", dpi=100))
    (folder / "don.png.part").write_bytes(small)
    (folder / "don.png.part").rename(folder / "don.png")
    expect(page.locator("#components li[data-id]")).to_have_count(2, timeout=20_000)
    expect(page.locator("#components li[data-id]").nth(1)).to_contain_text("don.png")
    page.keyboard.press("Alt+n")  # next component
    expect(page.locator("#components li.current")).to_contain_text("don.png")
    page.keyboard.press("Alt+p")
    expect(page.locator("#components li.current")).to_contain_text("Văn bản hành chính")
    shot(page, "07-drop-folder")

    # 6. the receipt: what was digitized and what was reused, in Vietnamese
    page.locator("#drop").focus()
    page.keyboard.press("Alt+i")
    receipt = page.locator("#receipt")
    expect(receipt).to_be_visible()
    expect(receipt).to_contain_text("BIÊN NHẬN SỐ HÓA HỒ SƠ")
    expect(receipt).to_contain_text(code)
    digitized = page.locator("#receipt-digitized tbody tr").first
    expect(digitized).to_contain_text("123/QĐ-UBND")
    expect(digitized).to_contain_text("05/05/2023")
    expect(digitized).to_contain_text(result_code)
    reused = page.locator("#receipt-reused tbody tr").first
    expect(reused).to_contain_text("Căn cước")
    expect(reused).to_contain_text(reused_code)
    expect(page.locator("#receipt-missing")).to_contain_text("Bản vẽ kỹ thuật")
    shot(page, "08-receipt", "#receipt .paper")
    page.emulate_media(media="print")
    expect(page.locator("footer.keys")).to_be_hidden()
    expect(page.locator("#receipt .paper")).to_be_visible()
    shot(page, "09-receipt-print")
    page.emulate_media(media="screen")
    page.keyboard.press("Escape")
    expect(page.locator("#dossier")).to_be_visible()
    _publish_screenshots()


def _edit_pages(page, tmp_path: Path) -> None:
    """Reorder, delete and scan a page again; each edit re-assembles the component."""
    from playwright.sync_api import expect

    pages = page.locator("#review .page")
    reviewable = page.locator("#doc-type")
    expect(pages).to_have_count(2)
    expect(pages.nth(0)).to_contain_text("xoay 90°")
    pages.nth(0).get_by_role("button", name="↓").click()
    expect(pages.nth(1)).to_contain_text("xoay 90°")
    expect(pages.nth(0)).not_to_contain_text("xoay 90°")
    expect(reviewable).to_be_enabled()
    shot(page, "05b-pages-reordered")
    page.once("dialog", lambda dialog: dialog.accept())  # "Xóa trang 1 …?"
    pages.nth(0).get_by_role("button", name="Xóa").click()
    expect(pages).to_have_count(1)
    expect(pages.nth(0)).to_contain_text("xoay 90°")
    expect(reviewable).to_be_enabled()
    expect(reviewable).to_have_value("quyet_dinh")
    progress = page.locator("#components li[data-id]").first.locator(".progress li")
    first_read = progress.first.inner_text()  # "Trang 1: xong 2,4 s"
    extra = tmp_path / "phu-luc.png"
    extra.write_bytes(png_bytes(render_page(["PHỤ LỤC 2"], paper="A5", dpi=100)))
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="+ Thêm trang").click()
    chooser.value.set_files(str(extra))
    expect(pages).to_have_count(2)
    expect(progress).to_have_text([first_read, re.compile("Trang 2: xong")], timeout=60_000)
    # only the new page was read: the first one kept its reading (and its seconds)
    page.once("dialog", lambda dialog: dialog.accept())
    pages.nth(1).get_by_role("button", name="Xóa").click()
    expect(pages).to_have_count(1)
    expect(reviewable).to_be_enabled()
    again = tmp_path / "quyet-dinh-lai.png"
    again.write_bytes(png_bytes(render_page(DECISION, dpi=200)))  # scanned upright this time
    with page.expect_file_chooser() as chooser:
        pages.nth(0).get_by_role("button", name="Quét lại").click()
    chooser.value.set_files(str(again))
    expect(pages.nth(0)).not_to_contain_text("xoay 90°", timeout=60_000)
    expect(page.locator("#components li[data-id] .progress li")).to_have_count(1)
    expect(reviewable).to_be_enabled(timeout=60_000)
    expect(page.locator("#f-so_ky_hieu")).to_have_value("123/QĐ-UBND")
    page.wait_for_function(
        "[...document.querySelectorAll('#pages img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    sizes = pages.locator("img").evaluate_all(
        "imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])"
    )
    assert all(h > w for w, h in sizes), sizes  # the new scan's thumbnails, upright both
    shot(page, "05c-page-scanned-again")


def _publish_screenshots() -> None:
    """Copy the main steps to docs/screenshots/ when asked (SOHOA_UPDATE_SCREENSHOTS=1)."""
    import os

    if os.environ.get("SOHOA_UPDATE_SCREENSHOTS") != "1":
        return
    docs = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
    docs.mkdir(parents=True, exist_ok=True)
    for name in ("03-look-up-first", "04-live-progress", "06-confirmed", "08-receipt"):
        img = Image.open(ARTIFACTS / f"{name}-detail.png").convert("RGB")
        small = img.quantize(colors=128, method=Image.Quantize.MEDIANCUT)  # UI: few colours
        small.save(docs / f"counter-{name[3:]}.png", optimize=True)


def test_webcam_reads_the_id_card_qr(server: LiveServer, playwright, tmp_path: Path) -> None:
    """getUserMedia -> canvas -> the ID-card endpoint, with Chromium's fake camera showing
    a card with its QR code (a Y4M video file)."""
    from playwright.sync_api import expect

    video = tmp_path / "card.y4m"
    write_y4m(card_frame(), video)
    args = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(server.url + "/counter/")
        page.fill("#api-key", server.clerk)
        page.press("#api-key", "Enter")
        expect(page.locator("#camera-open")).to_be_visible()
        page.click("#camera-open")
        page.wait_for_function("document.querySelector('#camera-video').videoWidth > 0")
        shot(page, "10-webcam")
        page.click("#camera-shot")
        expect(page.locator("#owner-id")).to_have_value(OWNER)
        expect(page.locator("#owner-name")).to_contain_text("Nguyễn Văn An")
        expect(page.locator("#camera")).to_be_hidden()
    finally:
        browser.close()


def card_frame() -> Image.Image:
    """A webcam's view of a chip ID card: a grey desk, the card, its QR code."""
    frame = Image.new("RGB", (1280, 720), (90, 95, 100))
    card = Image.new("RGB", (860, 540), (235, 240, 245))
    ImageDraw.Draw(card).text(
        (40, 40), "CĂN CƯỚC CÔNG DÂN", font=font("sans-bold", 36), fill="black"
    )
    qr = zxingcpp.create_barcode(CCCD_QR, zxingcpp.BarcodeFormat.QRCode).to_image(scale=5)
    card.paste(Image.fromarray(np.array(qr)).convert("RGB"), (470, 120))
    frame.paste(card, (210, 90))
    return frame


def write_y4m(img: Image.Image, path: Path, frames: int = 2) -> None:
    """A YUV4MPEG2 (4:2:0) video of one still picture, for Chromium's fake camera."""
    rgb = np.asarray(img.convert("RGB"), dtype=np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
    v = 0.5 * r - 0.418688 * g - 0.081312 * b + 128
    half = lambda a: a.reshape(a.shape[0] // 2, 2, a.shape[1] // 2, 2).mean(axis=(1, 3))  # noqa: E731
    planes = [np.clip(p, 0, 255).astype(np.uint8).tobytes() for p in (y, half(u), half(v))]
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{img.width} H{img.height} F25:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + b"".join(planes))
