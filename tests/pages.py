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
    bold = font(font_name.split("-")[0] + "-bold" if "bold" not in font_name else font_name, size)
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
