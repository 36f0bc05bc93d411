"""Page geometry: skew of the content, blank-page test, and one-rotation straightening.

Angles follow `models.document.PageResult`: skew is counter-clockwise positive, rotation is
the clockwise quarter turn by which the scan stands turned from upright.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

WORK_SIDE = 1024  # longest side of the working copy (skew, blank test, layout)
_COARSE_STEP = 0.5  # degrees
_FINE_STEP = 0.02  # degrees
_MIN_RADIUS = 0.03  # fraction of the side: below it the spectrum is page layout, not text
_MAX_RADIUS = 0.48  # fraction of the side: stay inside the inscribed circle
_BLACKHAT_KERNEL = cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15))
_LOCAL_MEAN = (31, 31)  # window of the running mean removed from the ink image
_PEAK_HALF_WIDTH = 9  # coarse steps each side of the running median the peak is judged on
_MIN_PROMINENCE = 8.0  # robust z-score of the best ray below which the page has no lines
_WHITE: dict[str, int | tuple[int, ...]] = {
    "1": 1,
    "L": 255,
    "LA": (255, 255),
    "RGB": (255, 255, 255),
    "RGBA": (255, 255, 255, 255),
}
_BLANK_MARGIN = 0.05  # fraction of each side ignored by is_blank
_MIN_CONTRAST = 40  # grey levels between a stroke and the paper around it
_MIN_NEIGHBOURS = 3  # ink pixels in its 3x3 neighbourhood for a pixel to be ink
_BLANK_MIN_INK = 2e-4  # fraction of the inner page that must be ink


def to_gray(image: np.ndarray | Image.Image) -> np.ndarray:
    """8-bit single-channel copy of a PIL image or a grey/RGB(A) array."""
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("L"))
    a = np.asarray(image)
    if a.ndim == 3:
        a = cv2.cvtColor(a, cv2.COLOR_RGBA2GRAY if a.shape[2] == 4 else cv2.COLOR_RGB2GRAY)
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    return a


def shrink(gray: np.ndarray, side: int = WORK_SIDE) -> tuple[np.ndarray, int]:
    """Copy shrunk by the smallest integer factor `k` that brings the longest side to `side`
    or less (INTER_AREA; an integer factor takes OpenCV's fast path, 5x quicker), and `k`.
    Pixel (x, y) of the copy covers pixels [k*x, k*x + k) of the original."""
    h, w = gray.shape[:2]
    k = max(1, -(-max(h, w) // side))
    if k == 1:
        return gray, 1
    h, w = h // k * k, w // k * k
    return cv2.resize(gray[:h, :w], (w // k, h // k), interpolation=cv2.INTER_AREA), k


def _ink(gray: np.ndarray) -> np.ndarray:
    """Zero-mean float image of the dark strokes thinner than the kernel (black-hat).

    Large dark areas (scanner edges, shadows, photos) are set to the mean so that their
    borders draw no straight edge into the spectrum.
    """
    closed = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, _BLACKHAT_KERNEL)
    ink = cv2.subtract(closed, gray).astype(np.float32)
    paper = float(np.percentile(closed[::4, ::4], 90))
    dark = closed < 0.6 * paper
    # Noise and shading change the level of the black-hat from place to place; the edges of
    # such areas would be straight lines in the spectrum, so keep only the local variation.
    ink -= cv2.blur(ink, _LOCAL_MEAN)
    if dark.any():
        ink[cv2.dilate(dark.view(np.uint8), _BLACKHAT_KERNEL).view(bool)] = 0.0
    b = _BLACKHAT_KERNEL.shape[0]  # the closing is unreliable at the image border
    ink[:b], ink[-b:], ink[:, :b], ink[:, -b:] = 0.0, 0.0, 0.0, 0.0
    return ink


def _log_spectrum(gray: np.ndarray) -> np.ndarray:
    """Centred log-magnitude spectrum of the ink image padded to a square."""
    h, w = gray.shape
    n = cv2.getOptimalDFTSize(max(h, w))
    ink = np.zeros((n, n), np.float32)
    ink[:h, :w] = _ink(gray)  # zero mean: no DC spike, no step at the padding edge
    spec = cv2.dft(ink, flags=cv2.DFT_COMPLEX_OUTPUT)
    mag = cv2.magnitude(spec[..., 0], spec[..., 1])
    mag = cv2.log(mag + 1.0)  # np.log1p is 20x slower on float32
    return np.fft.fftshift(mag)


def _ray_sums(mag: np.ndarray, angles: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Sum of the spectrum along the rays at `angles` (degrees) and their perpendiculars."""
    n = mag.shape[0]
    c = n / 2
    t = np.deg2rad(angles)[:, None]
    out = np.zeros(len(angles), np.float64)
    for phase in (0.0, np.pi / 2):
        xs = (c + radii[None, :] * np.cos(t + phase)).astype(np.float32)
        ys = (c - radii[None, :] * np.sin(t + phase)).astype(np.float32)
        samples = cv2.remap(mag, xs, ys, cv2.INTER_LINEAR)
        out += samples.sum(axis=1)
    return out


def detect_skew(gray: np.ndarray) -> float:
    """Skew of the page content in degrees, counter-clockwise positive, in [-45, 45).

    Fourier method (as in jdeskew): text lines put their energy on the ray perpendicular to
    them in the magnitude spectrum; the ray with most energy is found by a coarse sweep,
    a fine sweep and a parabolic fit. Pages without lines give 0.0.
    """
    small = shrink(to_gray(gray))[0]
    if blank_of_mask(ink_mask(small)):
        return 0.0
    return skew_of_small(small)


def skew_of_small(small: np.ndarray) -> float:
    """`detect_skew` on a copy already shrunk by `shrink`."""
    if min(small.shape) < 32:
        return 0.0
    mag = _log_spectrum(small)
    n = mag.shape[0]
    radii = np.arange(_MIN_RADIUS * n, _MAX_RADIUS * n, 0.5, dtype=np.float32)

    coarse = np.arange(-45.0, 45.0, _COARSE_STEP)
    sums = _ray_sums(mag, coarse, radii)
    # Text lines give a peak far narrower than a degree on top of broad humps (page layout,
    # letter shapes): judge the peak against a running median of the sweep.
    w = _PEAK_HALF_WIDTH
    ring = np.concatenate([sums[-w:], sums, sums[:w]])
    peaks = sums - np.median(np.lib.stride_tricks.sliding_window_view(ring, 2 * w + 1), axis=1)
    i = int(np.argmax(peaks))
    med = np.median(peaks)
    mad = np.median(np.abs(peaks - med)) + 1e-9
    if (peaks[i] - med) / (1.4826 * mad) < _MIN_PROMINENCE:
        return 0.0

    fine = coarse[i] + np.arange(-_COARSE_STEP, _COARSE_STEP + 1e-9, _FINE_STEP)
    fsums = _ray_sums(mag, fine, radii)
    j = int(np.argmax(fsums))
    best = float(fine[j])
    if 0 < j < len(fine) - 1:
        a, b, c = fsums[j - 1], fsums[j], fsums[j + 1]
        den = a - 2 * b + c
        if den < 0:
            best += 0.5 * (a - c) / den * _FINE_STEP
    return float((best + 45.0) % 90.0 - 45.0)


def ink_mask(small: np.ndarray) -> np.ndarray:
    """Boolean mask of the ink on a shrunk copy: strokes thinner than the closing kernel
    that stand out from the paper around them by more than the page's noise, without
    isolated specks. Large dark areas (scanner edges, shadows, photos) are not ink."""
    small = cv2.medianBlur(small, 3)
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, _BLACKHAT_KERNEL)
    ink = cv2.subtract(closed, small)
    sample = ink[::2, ::2]
    med = float(np.median(sample))
    mad = float(np.median(np.abs(sample.astype(np.float32) - med)))
    threshold = max(_MIN_CONTRAST, med + 8 * 1.4826 * mad)
    mask = (ink > threshold).view(np.uint8)
    # a stroke pixel has ink neighbours along the stroke; a speck of noise does not
    neighbours = cv2.boxFilter(mask, -1, (3, 3), normalize=False)
    mask = (neighbours >= _MIN_NEIGHBOURS) & mask.view(bool)
    b = _BLACKHAT_KERNEL.shape[0] // 2 + 1  # the closing is unreliable at the image border
    mask[:b], mask[-b:], mask[:, :b], mask[:, -b:] = False, False, False, False
    return mask


def is_blank(gray: np.ndarray) -> bool:
    """True when the page carries (almost) no ink.

    Looks inside a border margin (scanner edges, punch holes, shadows) at dark strokes
    thinner than a few millimetres, thresholded above the page's own noise level, and
    ignores specks too small to be writing.
    """
    return blank_of_mask(ink_mask(shrink(to_gray(gray))[0]))


def blank_of_mask(mask: np.ndarray) -> bool:
    """`is_blank` on the `ink_mask` of a shrunk copy."""
    h, w = mask.shape
    my, mx = round(h * _BLANK_MARGIN), round(w * _BLANK_MARGIN)
    if h <= 2 * my or w <= 2 * mx:
        return True
    inner = mask[my : h - my, mx : w - mx]
    return int(np.count_nonzero(inner)) < _BLANK_MIN_INK * inner.size


def straighten(image: Image.Image, rotation: int, skew: float) -> Image.Image:
    """Undo a scan turned `rotation` degrees clockwise whose content is skewed `skew` degrees
    counter-clockwise, with a single rotation (expanded canvas, white fill).

    An exact quarter turn is a transpose; any other angle is one bilinear OpenCV warp on
    the canvas of Pillow's `rotate(expand=True)` (ten times faster than Pillow's bicubic,
    and no intermediate copy of a large sheet)."""
    return straighten_pixels(image, rotation, skew)[0]


def straighten_pixels(
    image: Image.Image, rotation: int, skew: float, keep: bool = False
) -> tuple[Image.Image, np.ndarray | None]:
    """`straighten`, and with `keep` the upright pixels as the array the warp made (None
    after a quarter turn): a later step can use it instead of copying the image out again
    (Pillow's `tobytes` costs ~0.1 s for an A4 colour page at 300 dpi)."""
    if image.mode not in _WHITE:
        image = image.convert("RGB")
    angle = (rotation - skew) % 360.0
    quarters = round(angle / 90.0) % 4
    if abs(angle - 90.0 * round(angle / 90.0)) < 1e-3:
        return (image.transpose(_QUARTER_TURNS[quarters]) if quarters else image), None
    if image.mode not in ("L", "RGB"):
        rotated = image.rotate(
            angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=_WHITE[image.mode]
        )
        return rotated, None
    out = straighten_array(np.asarray(image), rotation, skew)
    return Image.fromarray(out, image.mode), (out if keep else None)


def straighten_array(pixels: np.ndarray, rotation: int, skew: float) -> np.ndarray:
    """`straighten` on a grey or RGB array: the same canvas and pixels as for the image
    (a grey page straightens ~3x faster than its colour copy)."""
    angle = (rotation - skew) % 360.0
    quarters = round(angle / 90.0) % 4
    if abs(angle - 90.0 * round(angle / 90.0)) < 1e-3:
        return cv2.rotate(pixels, _CV_TURNS[quarters]) if quarters else pixels
    h, w = pixels.shape[:2]
    size, matrix = _pil_rotation((w, h), angle)
    return cv2.warpAffine(
        pixels,
        matrix,
        size,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(255, 255, 255),
    )


_QUARTER_TURNS = {
    1: Image.Transpose.ROTATE_90,
    2: Image.Transpose.ROTATE_180,
    3: Image.Transpose.ROTATE_270,
}
_CV_TURNS = {  # the same counter-clockwise quarter turns in OpenCV
    1: cv2.ROTATE_90_COUNTERCLOCKWISE,
    2: cv2.ROTATE_180,
    3: cv2.ROTATE_90_CLOCKWISE,
}


def _pil_rotation(size: tuple[int, int], angle: float) -> tuple[tuple[int, int], np.ndarray]:
    """Canvas and output-to-input affine map of Pillow's `rotate(angle, expand=True)`."""
    w, h = size
    a = -np.deg2rad(angle)
    c, s = round(float(np.cos(a)), 15), round(float(np.sin(a)), 15)
    corners = np.array([(0, 0), (w, 0), (w, h), (0, h)], float) - (w / 2, h / 2)
    xs = c * corners[:, 0] + s * corners[:, 1] + w / 2
    ys = -s * corners[:, 0] + c * corners[:, 1] + h / 2
    nw = int(np.ceil(xs.max()) - np.floor(xs.min()))
    nh = int(np.ceil(ys.max()) - np.floor(ys.min()))
    # output (x, y) -> input: rotate about the input centre, after centring the new canvas
    ox, oy = -(nw - w) / 2 - w / 2, -(nh - h) / 2 - h / 2
    matrix = np.array(
        [[c, s, c * ox + s * oy + w / 2], [-s, c, -s * ox + c * oy + h / 2]], np.float64
    )
    # Pillow maps pixel centres (x + 0.5, y + 0.5); OpenCV maps integer coordinates
    matrix[:, 2] += 0.5 * (matrix[:, 0] + matrix[:, 1]) - 0.5
    return (nw, nh), matrix
