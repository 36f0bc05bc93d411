"""Generated test pages: Vietnamese text rendered with Pillow, then turned, skewed and soiled.

Used by the tests and the benchmarks, so that no result depends on one hand-picked picture.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = [
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/truetype/liberation2"),
]
FONTS = {
    "serif": "DejaVuSerif.ttf",
    "serif-bold": "DejaVuSerif-Bold.ttf",
    "sans": "DejaVuSans.ttf",
    "sans-bold": "DejaVuSans-Bold.ttf",
    "liberation-serif": "LiberationSerif-Regular.ttf",
    "liberation-serif-bold": "LiberationSerif-Bold.ttf",
}

PAPER_MM = {"A4": (210, 297), "A3": (297, 420), "A5": (148, 210)}


def font(name: str, size_px: int) -> ImageFont.FreeTypeFont:
    """A Vietnamese-capable TrueType font from the Debian font packages."""
    for d in FONT_DIRS:
        p = d / FONTS[name]
        if p.exists():
            return ImageFont.truetype(str(p), size_px)
    raise FileNotFoundError(FONTS[name])


DECISION = [
    ("UBND TỈNH TÂY NINH", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
    ("SỞ XÂY DỰNG", "Độc lập - Tự do - Hạnh phúc"),
    ("Số: 123/QĐ-UBND", "Tây Ninh, ngày 05 tháng 5 năm 2023"),
    "",
    "QUYẾT ĐỊNH",
    "Về việc phê duyệt kế hoạch số hóa hồ sơ thủ tục hành chính",
    "",
    "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH",
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
    "Căn cứ Nghị định số 45/2020/NĐ-CP của Chính phủ về thực hiện thủ tục",
    "hành chính trên môi trường điện tử; xét đề nghị của Giám đốc Sở.",
    "",
    "QUYẾT ĐỊNH:",
    "Điều 1. Phê duyệt kế hoạch số hóa hồ sơ, kết quả giải quyết thủ tục",
    "hành chính tại Bộ phận Một cửa các cấp trên địa bàn tỉnh.",
    "Điều 2. Giao Văn phòng chủ trì, phối hợp với các sở, ngành triển khai",
    "thực hiện; bảo đảm dữ liệu được tái sử dụng cho người dân.",
    "Điều 3. Quyết định này có hiệu lực kể từ ngày ký.",
]


def render_page(
    lines: list,
    *,
    paper: str = "A4",
    dpi: int = 200,
    font_pt: float = 12,
    font_name: str = "serif",
    margin_mm: float = 20,
    color: bool = True,
) -> Image.Image:
    """Render lines on a white page. A line is a string, or a (left, right) pair of columns."""
    w_mm, h_mm = PAPER_MM[paper]
    px = lambda mm: int(round(mm / 25.4 * dpi))  # noqa: E731
    img = Image.new("RGB", (px(w_mm), px(h_mm)), "white")
    draw = ImageDraw.Draw(img)
    size = int(round(font_pt / 72 * dpi))
    regular = font(font_name, size)
    bold_name = font_name if font_name.endswith("-bold") else f"{font_name}-bold"
    bold = font(bold_name if bold_name in FONTS else font_name, size)
    y = px(margin_mm)
    left, right = px(margin_mm), img.width - px(margin_mm)
    step = int(size * 1.6)
    for line in lines:
        if isinstance(line, tuple):
            a, b = line
            draw.text((left, y), a, font=bold, fill="black")
            bw = draw.textlength(b, font=bold)
            draw.text((right - bw, y), b, font=bold, fill="black")
        elif line:
            f = bold if line.isupper() else regular
            tw = draw.textlength(line, font=f)
            x = (left + right - tw) / 2 if line.isupper() else left
            draw.text((x, y), line, font=f, fill="black")
        y += step
    if color:  # a red stamp, as on real documents
        cx, cy, r = right - px(35), y + px(10), px(18)
        if cy + r < img.height:
            draw.ellipse(
                (cx - r, cy - r, cx + r, cy + r), outline=(200, 30, 30), width=max(2, dpi // 60)
            )
    return img


def words_of(lines: list) -> list[str]:
    """The bag of words a page rendered from `lines` holds."""
    out: list[str] = []
    for line in lines:
        parts = line if isinstance(line, tuple) else (line,)
        for part in parts:
            out.extend(part.split())
    return out


def distort(
    img: Image.Image,
    *,
    rotation: int = 0,
    skew: float = 0.0,
    noise: float = 0.0,
    seed: int = 0,
) -> Image.Image:
    """Turn an upright page as a scanner would: `skew` degrees counter-clockwise, then
    `rotation` degrees clockwise, white fill; optional Gaussian noise (sigma in grey levels)."""
    out = img
    if skew:
        out = out.rotate(skew, resample=Image.BICUBIC, expand=True, fillcolor="white")
    if rotation:
        out = out.rotate(-rotation, expand=True)
    if noise:
        rng = np.random.default_rng(seed)
        a = np.asarray(out).astype(np.int16)
        a = a + rng.normal(0, noise, a.shape).astype(np.int16)
        out = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    return out


def random_case(seed: int) -> dict:
    """A seeded (rotation, skew) pair for property-style tests."""
    rnd = random.Random(seed)
    return {"rotation": rnd.choice([0, 90, 180, 270]), "skew": round(rnd.uniform(-15, 15), 2)}


# ---------------------------------------------------------------- drawings and soiled scans

DRAWING_LABELS = [
    "Phòng khách",
    "Phòng ngủ",
    "Nhà bếp",
    "Sân trước",
    "Ban công",
    "Cầu thang",
    "Nhà vệ sinh",
    "Lối đi chung",
]
TITLE_BLOCK = [
    "CÔNG TY TƯ VẤN THIẾT KẾ XÂY DỰNG",
    "Công trình: Nhà ở riêng lẻ",
    "Địa điểm: phường Hiệp Ninh, Tây Ninh",
    "Bản vẽ: Mặt bằng tầng một",
    "Tỷ lệ: 1/100  Số bản vẽ: KT-01",
    "Chủ đầu tư: Nguyễn Văn Bình",
]


def render_drawing(
    *, paper: str = "A3", dpi: int = 200, seed: int = 0, color: bool = True
) -> tuple[Image.Image, list[str]]:
    """A landscape building drawing: frame, walls, dimension lines, hatching, room labels
    and a title block in the bottom-right corner. Returns the image and its bag of words."""
    rnd = random.Random(seed)
    h_mm, w_mm = PAPER_MM.get(paper, (594, 841))  # landscape; A1 when not listed
    px = lambda mm: int(round(mm / 25.4 * dpi))  # noqa: E731
    img = Image.new("RGB", (px(w_mm), px(h_mm)), "white")
    draw = ImageDraw.Draw(img)
    thin, thick = max(1, dpi // 150), max(2, dpi // 50)
    draw.rectangle((px(10), px(10), px(w_mm - 10), px(h_mm - 10)), outline="black", width=thick)
    # walls: a grid of rooms in the upper-left two thirds
    x0, y0, x1, y1 = px(30), px(30), px(w_mm * 0.62), px(h_mm * 0.78)
    draw.rectangle((x0, y0, x1, y1), outline="black", width=thick)
    cols, rows = 4, 2
    for i in range(1, cols):
        x = x0 + (x1 - x0) * i // cols
        draw.line((x, y0, x, y1), fill="black", width=thick)
    ym = (y0 + y1) // 2
    draw.line((x0, ym, x1, ym), fill="black", width=thick)
    for i in range(0, x1 - x0, px(4)):  # hatching of the stair well
        draw.line((x0 + i, y1 + px(5), x0 + i + px(8), y1 + px(13)), fill="black", width=thin)
    blue = (30, 60, 170) if color else "black"
    draw.line((x0, y0 - px(8), x1, y0 - px(8)), fill=blue, width=thin)  # a dimension line
    draw.ellipse((x1 - px(40), y0 + px(10), x1 - px(10), y0 + px(40)), outline=blue, width=thin)
    words: list[str] = []
    label_font = font("sans", int(round(12 / 72 * dpi)))
    labels = rnd.sample(DRAWING_LABELS, cols * rows)
    for n, label in enumerate(labels):
        cx = x0 + (x1 - x0) * (2 * (n % cols) + 1) // (2 * cols)
        cy = y0 + (y1 - y0) * (2 * (n // cols) + 1) // (2 * rows)
        tw = draw.textlength(label, font=label_font)
        draw.text((cx - tw / 2, cy), label, font=label_font, fill="black")
        words += label.split()
    dim = f"{rnd.randint(8, 20)}.{rnd.randint(0, 9)}00"
    draw.text(((x0 + x1) / 2, y0 - px(15)), dim, font=label_font, fill=blue)
    words.append(dim)
    # title block: a ruled table in the bottom-right corner
    tb_font = font("sans", int(round(11 / 72 * dpi)))
    row_h = px(9)
    tx0, tx1 = px(w_mm - 10 - 150), px(w_mm - 10)
    ty1 = px(h_mm - 10)
    ty0 = ty1 - row_h * len(TITLE_BLOCK)
    draw.rectangle((tx0, ty0, tx1, ty1), outline="black", width=thick)
    for i, line in enumerate(TITLE_BLOCK):
        y = ty0 + i * row_h
        if i:
            draw.line((tx0, y, tx1, y), fill="black", width=thin)
        draw.text((tx0 + px(3), y + px(2)), line, font=tb_font, fill="black")
        words += line.split()
    return img, words


def scanner_edges(img: Image.Image, *, seed: int = 0) -> Image.Image:
    """A black scanner-lid border on one side and a shadow darkening another edge."""
    rnd = random.Random(seed)
    a = np.asarray(img.convert("RGB")).astype(np.float32)
    h, w = a.shape[:2]
    side = rnd.choice(["left", "right", "top", "bottom"])
    depth = rnd.randint(max(2, w // 60), max(3, w // 25))
    edge = {
        "left": (slice(None), slice(0, depth)),
        "right": (slice(None), slice(w - depth, w)),
        "top": (slice(0, depth), slice(None)),
        "bottom": (slice(h - depth, h), slice(None)),
    }
    a[edge[side]] = 20.0
    # a shadow fading from 45% darker at the opposite edge over a tenth of the page
    ramp = np.linspace(0.55, 1.0, max(2, w // 10), dtype=np.float32)
    shade = np.ones(w, np.float32)
    if side == "left":
        shade[w - len(ramp) :] = ramp[::-1]
    else:
        shade[: len(ramp)] = ramp
    a *= shade[None, :, None]
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).convert(img.mode)


def photocopy(img: Image.Image, *, seed: int = 0) -> Image.Image:
    """A worn photocopy: washed-out grey ink, blur, toner specks."""
    from PIL import ImageFilter

    rng = np.random.default_rng(seed)
    out = img.convert("L").filter(ImageFilter.GaussianBlur(0.8))
    a = 70 + np.asarray(out).astype(np.float32) * (170 / 255)
    specks = rng.random(a.shape) < 0.0005
    a[specks] = 40
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def jpeg_artefacts(img: Image.Image, *, quality: int = 30) -> Image.Image:
    """The page after a round trip through a low-quality JPEG."""
    import io

    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert(img.mode)
