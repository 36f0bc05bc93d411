"""Which way up a scan stands: 0, 90, 180 or 270 degrees clockwise from upright, plus skew.

No single signal is trusted:

(a) the skew comes from the Fourier spectrum (`ocr.geometry.detect_skew`), and the
    projection profiles of the deskewed ink tell whether the text lines run horizontally
    or vertically, i.e. {0, 180} or {90, 270};
(b) Tesseract's OSD, on a small text-dense crop rather than the page (whole-page OSD at
    300 dpi costs over a second; it classifies every blob, up to 250, four times), picks
    one rotation;
(c) when OSD is unsure or contradicts (a), the text-dense crop is read at the candidate
    rotations and the one Tesseract reads more confidently wins.

OSD and the reading check run in-process through tesserocr when it is installed (0.1 s
for OSD on the crop instead of 0.4 s for a `tesseract` process, mostly start-up).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from ocr import tesseract
from ocr.geometry import blank_of_mask, ink_mask, shrink, skew_of_small, to_gray

# OSD confidence on the crop below which OSD alone does not decide. OSD's confidence is a
# sum over the blobs it classifies, so a ~100-blob crop scores several times less than a
# whole page (where ~15 is the usual bar). On 480 generated Vietnamese scans (clean, noisy,
# blurred, washed-out, JPEG; 200/300 dpi) right answers had a median of ~2.2 and wrong
# ones (mostly 180-degree flips) at most 1.0.
OSD_MIN_CONFIDENCE = 2.0
DIRECTION_MARGIN = 0.4  # |line_direction| below which the line direction is unclear
CHECK_MIN_MARGIN = 0.1  # relative score margin under which the reading check is a tie
READ_MIN_CONFIDENCE = 60.0  # word confidence that counts nothing in the reading check
READ_ATTEMPTS = 3  # text-dense regions tried by the reading check before it gives up
# reading-check score that settles it (a line of text reading well scores in the thousands;
# a stray word or two read out of a stamp and a drawing's lines, under a hundred)
READ_DECISIVE = 200.0
_OSD_CROP = (3, 4.0, 150)  # text lines, inches along them, dpi of the crop given to OSD
_READ_CROP = (3, 4.0, 300)  # the same for the crop read at each candidate rotation
_SQUARE_IN = 2.5  # side (inches) of the crop used when the line direction is unclear

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 on the shrunk deskewed copy


@dataclass
class Orientation:
    """How a scan stands. `rotation`: clockwise angle (0/90/180/270) by which it is turned
    from upright; `skew`: counter-clockwise degrees of its content; `confidence`: 0..1 in
    the rotation (0 for pages without text); `method`: the signal that decided
    ("osd", "confidence-check", "osd+confidence-check", "blank", "no-text")."""

    rotation: int
    skew: float
    confidence: float
    method: str


def find_orientation(
    gray: np.ndarray,
    *,
    dpi: int = 300,
    lang: str = "vie",
    shrunk: tuple[np.ndarray, int] | None = None,
) -> Orientation:
    """Rotation and skew of a scanned page given as a grey (or RGB) array at `dpi`.
    `shrunk`: `shrink(gray)` when the caller already made it (the blank test does)."""
    gray = to_gray(gray)
    small, k = shrunk or shrink(gray)
    skew = skew_of_small(small)
    deskew = _deskew_matrix(gray.shape, skew)
    work = cv2.warpAffine(
        small, _scaled(deskew, 1 / k), _canvas(gray.shape, skew, k), borderValue=255
    )
    mask = ink_mask(work)
    if blank_of_mask(mask):
        return Orientation(0, 0.0, 0.0, "blank")
    direction = line_direction(mask)
    if direction >= DIRECTION_MARGIN:
        candidates: tuple[int, ...] = (0, 180)
    elif direction <= -DIRECTION_MARGIN:
        candidates = (90, 270)
    else:
        candidates = (0, 90, 180, 270)

    lines, inches, osd_dpi = _OSD_CROP
    box = _text_box(mask, candidates, lines, inches, dpi / k)
    if box is None:
        return Orientation(0, skew, 0.0, "no-text")
    try:
        osd_rot, osd_conf = tesseract.osd(
            _crop(gray, deskew, box, k, dpi, osd_dpi), dpi=min(dpi, osd_dpi)
        )
    except tesseract.TesseractError:
        osd_rot, osd_conf = 0, 0.0
    if osd_conf >= OSD_MIN_CONFIDENCE and osd_rot in candidates:
        return Orientation(osd_rot, skew, min(1.0, osd_conf / (2 * OSD_MIN_CONFIDENCE)), "osd")

    lines, inches, read_dpi = _READ_CROP
    left, scores = mask.copy(), dict.fromkeys(candidates, 0.0)
    for _attempt in range(READ_ATTEMPTS):
        box = _text_box(left, candidates, lines, inches, dpi / k)
        if box is None:
            break
        crop = _crop(gray, deskew, box, k, dpi, read_dpi)
        found = reading_scores(crop, candidates, dpi=min(dpi, read_dpi), lang=lang)
        scores = {r: scores[r] + found[r] for r in candidates}
        if max(scores.values()) >= READ_DECISIVE:
            break
        # Little or nothing reads either way: the densest ink was no text, or hardly any (a
        # QR code, a stamp over a drawing's lines, a photo). Read the next densest region
        # too, and weigh both.
        x0, y0, x1, y1 = box
        left[y0:y1, x0:x1] = False
    ranked = sorted(candidates, key=lambda r: scores[r], reverse=True)
    best, second = scores[ranked[0]], scores[ranked[1]]
    margin = (best - second) / best if best > 0 else 0.0
    if margin < CHECK_MIN_MARGIN and osd_conf > 0 and osd_rot in ranked[:2]:
        return Orientation(osd_rot, skew, margin, "osd+confidence-check")
    return Orientation(ranked[0], skew, margin, "confidence-check")


def line_direction(mask: np.ndarray) -> float:
    """log(horizontal / vertical) projection-profile energy of a deskewed ink mask: positive
    when the text lines run horizontally, negative when vertically, near 0 when unclear."""
    return float(np.log((_profile_energy(mask, 1) + 1e-9) / (_profile_energy(mask, 0) + 1e-9)))


def _profile_energy(mask: np.ndarray, axis: int) -> float:
    """Energy of the first differences of the (lightly smoothed) ink profile relative to the
    profile's own: high when it alternates between lines of ink and empty gaps."""
    p = mask.sum(axis=axis, dtype=np.float64)
    p = np.convolve(p, np.ones(3) / 3, mode="same")
    total = float(np.dot(p, p))
    if total == 0:
        return 0.0
    d = np.diff(p)
    return float(np.dot(d, d)) / total


def reading_scores(
    crop: np.ndarray, candidates: tuple[int, ...], *, dpi: int, lang: str
) -> dict[int, float]:
    """For each candidate rotation, turn the crop upright as if the scan stood that way and
    read it (psm 6). The score counts only what reads well: for each word of two or more
    letters or digits, its confidence above READ_MIN_CONFIDENCE times its length. Text read
    the wrong way up comes out as many short words of middling confidence, which a plain
    sum of confidences rewarded (an ID card and a drawing's title block were turned by
    it); on 150 generated pages the right rotation then led by a relative margin of 0.64
    or more."""

    def score(rotation: int) -> float:
        upright = np.ascontiguousarray(np.rot90(crop, rotation // 90))
        try:
            words = tesseract.recognize(
                upright, lang=lang, psm=6, dpi=dpi, timeout=30, in_process=True
            ).words
        except tesseract.TesseractError:  # includes timeouts
            return 0.0
        score = 0.0
        for w in words:
            letters = sum(c.isalnum() for c in w.text)
            if letters >= 2:
                score += max(0.0, w.confidence - READ_MIN_CONFIDENCE) * letters
        return score

    if tesseract.has_tesserocr():  # in-process, ~0.1 s a crop: one thread keeps its model
        return {r: score(r) for r in candidates}
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(candidates, pool.map(score, candidates), strict=True))


def _deskew_matrix(shape: tuple[int, ...], skew: float) -> np.ndarray:
    """Affine map from the page to its deskewed copy on an expanded canvas."""
    h, w = shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -skew, 1.0)
    nw, nh = _rotated_size(w, h, skew)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return m


def _rotated_size(w: float, h: float, angle: float) -> tuple[int, int]:
    c, s = abs(np.cos(np.deg2rad(angle))), abs(np.sin(np.deg2rad(angle)))
    return int(np.ceil(w * c + h * s)), int(np.ceil(w * s + h * c))


def _canvas(shape: tuple[int, ...], skew: float, k: int) -> tuple[int, int]:
    w, h = _rotated_size(shape[1], shape[0], skew)
    return -(-w // k), -(-h // k)


def _scaled(m: np.ndarray, f: float) -> np.ndarray:
    """The same map between copies scaled by `f`."""
    out = m.copy()
    out[:, 2] *= f
    return out


def _text_box(
    mask: np.ndarray, candidates: tuple[int, ...], lines: int, inches: float, ppi: float
) -> Box | None:
    """Text-dense box on a mask of `ppi` pixels per inch: `lines` consecutive lines, at most
    `inches` along them, or a square when the line direction is unknown."""
    if len(candidates) == 4:
        return _dense_square(mask, round(_SQUARE_IN * ppi))
    horizontal = candidates[0] == 0
    box = _dense_lines(mask if horizontal else mask.T, lines, inches * ppi)
    if box is None or horizontal:
        return box
    x0, y0, x1, y1 = box
    return y0, x0, y1, x1


def _dense_lines(mask: np.ndarray, lines: int, length: float) -> Box | None:
    """Box of about `lines` horizontal text lines by `length` pixels holding the most ink,
    its top and bottom moved into the gaps between lines."""
    rows = mask.sum(axis=1, dtype=np.int64)
    if rows.sum() == 0:
        return None
    on = rows > 0.15 * rows.max()
    starts = np.flatnonzero(on[1:] & ~on[:-1]) + 1
    pitch = float(np.median(np.diff(starts))) if len(starts) > 2 else float(on.sum())
    h, w = mask.shape
    bh, bw = int(min(h, max(4, round(pitch * lines)))), int(min(w, max(8, round(length))))
    x0, y0 = _densest(mask, bw, bh)
    x1, y1 = x0 + bw, y0 + bh
    cut = mask[:, x0:x1].sum(axis=1, dtype=np.int64)  # ink per row across the box
    reach = max(1, round(pitch / 2))
    above = cut[max(0, y0 - reach) : y0 + 1]
    below = cut[y1 - 1 : min(h, y1 + reach)]
    y0 -= int(np.argmin(above[::-1]))  # the emptiest row, the nearest if several
    y1 += int(np.argmin(below))
    return x0, y0, x1, y1


def _dense_square(mask: np.ndarray, side: int) -> Box | None:
    """The `side`-pixel square with most ink."""
    if not mask.any():
        return None
    side = max(8, min(side, *mask.shape))
    x0, y0 = _densest(mask, side, side)
    return x0, y0, x0 + side, y0 + side


def _densest(mask: np.ndarray, bw: int, bh: int) -> tuple[int, int]:
    """Top-left corner of the `bw` x `bh` window of the mask holding the most ink."""
    integral = cv2.integral(mask.view(np.uint8))
    sums = integral[bh:, bw:] - integral[:-bh, bw:] - integral[bh:, :-bw] + integral[:-bh, :-bw]
    y, x = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(x), int(y)


def _crop(
    gray: np.ndarray, deskew: np.ndarray, box: Box, k: int, dpi: int, target_dpi: int
) -> np.ndarray:
    """Deskewed, denoised, contrast-stretched crop of `box` (given on the shrunk copy) from
    the full-resolution page, at `target_dpi` or the page's own resolution if lower."""
    x0, y0, x1, y1 = (v * k for v in box)
    m = deskew.copy()
    m[0, 2] -= x0
    m[1, 2] -= y0
    crop = cv2.warpAffine(gray, m, (x1 - x0, y1 - y0), borderValue=255)
    # Tesseract's own binarization fails on noisy washed-out print (it reads nothing from a
    # crop anyone can read): take the noise out and stretch the contrast first.
    crop = cv2.medianBlur(crop, 3)
    lo, hi = np.percentile(crop, (1, 99))
    if hi - lo >= 16:
        lut = np.clip((np.arange(256, dtype=np.float32) - lo) * (255 / (hi - lo)), 0, 255)
        crop = cv2.LUT(crop, lut.astype(np.uint8))
    f = target_dpi / dpi
    if f < 1.0:
        crop = cv2.resize(crop, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    return crop
