"""Page images encoded for the archival PDF: small, colour kept, text sharp.

Three encodings, chosen per page from its pixels:

- `g4`: a bilevel scan (only black and white pixels) as CCITT Group 4, lossless.
- `mrc`: a text page (mixed raster content): the dark, colourless ink as a full-resolution
  bilevel mask (CCITT G4) painted in the ink's colour, over a low-resolution JPEG of
  everything else (paper tone, red stamps, coloured ink, signatures). Text stays as sharp as
  the scan; colour is kept where it is.
- `jpeg`: a photograph-like page (many mid-tones) as one full-resolution JPEG.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

JPEG_QUALITY = 75  # full-resolution JPEG pages
BACKGROUND_QUALITY = 60  # MRC background layer
# Resolution of the MRC background (the ink mask keeps the page's): at 150 dpi a stamp's
# thin ring stays red; at 100 dpi it faded to pink.
BACKGROUND_DPI = 150
INK_MAX_CHROMA = 60  # above this (max - min of R, G, B) a dark pixel is coloured ink or a stamp
PHOTO_MIDTONE_SHARE = 0.25  # pages with more mid-tone pixels than this are kept as one JPEG
COLOUR_MIN_SHARE = 0.0002  # coloured ink below this share of the page stays in the background
PREVIEW_DPI = 25  # the page preview kept for perceptual hashing
BILEVEL_SHARE = 0.999  # share of pure black or white pixels that makes a page bilevel
BAND_ROWS = 512  # rows of RGB decoded at a time (a multiple of 4, for the colour sampling)


@dataclass
class PageImage:
    """One page image ready for the PDF: `kind` is `g4`, `mrc` or `jpeg`.

    `data` is the JPEG (`jpeg`) or the raw CCITT G4 data of the full-resolution bilevel image
    (`g4`, and the ink mask of `mrc`, where 1 bits are ink). `background` is the MRC's JPEG
    layer of `background_size` pixels; `ink` the RGB colour the mask is painted in.
    `colour_layers` are further full-resolution masks of coloured ink (red stamps, blue pens),
    each with the colour it is painted in, drawn over the background before the black ink.
    """

    kind: str
    width: int
    height: int
    dpi: int
    data: bytes
    gray: bool = False
    background: bytes | None = None
    background_size: tuple[int, int] = (0, 0)
    ink: tuple[int, int, int] = (0, 0, 0)
    colour_layers: list[tuple[bytes, tuple[int, int, int]]] = field(default_factory=list)
    preview: bytes = b""  # a small grey JPEG of the whole page (perceptual hashing, thumbnails)

    @property
    def size_bytes(self) -> int:
        layers = sum(len(data) for data, _ in self.colour_layers)
        return len(self.data) + len(self.background or b"") + layers


def encode_page_image(image: Image.Image, dpi: int) -> PageImage:
    """Encode an upright page image (8-bit L or RGB) for the archival PDF."""
    encoded = _encode(image, dpi)
    encoded.preview = _jpeg(image.convert("L").reduce(max(1, round(dpi / PREVIEW_DPI))), 75)
    return encoded


def _encode(image: Image.Image, dpi: int) -> PageImage:
    """Choose the encoding from the pixels. A large sheet is never copied whole as RGB:
    colour work goes in bands of rows, so an A1 page at 300 dpi stays within bounds."""
    gray = np.asarray(image.convert("L"))
    plain, max_chroma = _plain_ink(image)
    is_gray = max_chroma <= 8
    extremes = np.count_nonzero((gray <= 16) | (gray >= 240))
    if is_gray and extremes >= BILEVEL_SHARE * gray.size:  # colour is never dropped
        return PageImage("g4", image.width, image.height, dpi, encode_g4(gray < 128), gray=True)
    midtones = np.count_nonzero((gray > 64) & (gray < 192))
    if midtones > PHOTO_MIDTONE_SHARE * gray.size:
        return PageImage(
            "jpeg", image.width, image.height, dpi, _jpeg(image, JPEG_QUALITY), gray=is_gray
        )
    return _mrc(image, gray, plain, dpi, is_gray)


def _rows(
    image: Image.Image, step: int, width: int = 0, height: int = 0
) -> Iterator[tuple[slice, np.ndarray]]:
    """The page (or its top-left `width` x `height`) as RGB arrays of `step` rows at a time;
    the last band may be shorter."""
    width, height = width or image.width, height or image.height
    for y in range(0, height, step):
        y1 = min(height, y + step)
        band = image.crop((0, y, width, y1))
        yield slice(y, y1), np.asarray(band if band.mode == "RGB" else band.convert("RGB"))


def _plain_ink(image: Image.Image) -> tuple[np.ndarray, int]:
    """255 where a pixel is colourless (chroma up to INK_MAX_CHROMA), and the page's
    largest chroma (0 for a grey image)."""
    plain = np.full((image.height, image.width), 255, np.uint8)
    if image.mode == "L":
        return plain, 0
    top = 0
    for rows, rgb in _rows(image, BAND_ROWS):
        chroma = _chroma(rgb)
        top = max(top, int(chroma.max()))
        plain[rows] = cv2.threshold(chroma, INK_MAX_CHROMA, 255, cv2.THRESH_BINARY_INV)[1]
    return plain, top


def _chroma(rgb: np.ndarray) -> np.ndarray:
    """max - min of R, G, B per pixel (OpenCV: ten times faster than numpy's reductions)."""
    r, g, b = cv2.split(rgb)
    return cv2.subtract(cv2.max(cv2.max(r, g), b), cv2.min(cv2.min(r, g), b))


def _mrc(
    image: Image.Image, gray: np.ndarray, plain: np.ndarray, dpi: int, is_gray: bool
) -> PageImage:
    """Masks first, each encoded and freed as soon as it is done: on a large sheet every
    full-size mask costs as much as a megapixel count in MB."""
    h, w = gray.shape
    otsu, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    threshold = min(float(otsu), 160.0)  # a blank-ish page must not become all ink
    dark = cv2.threshold(gray, threshold - 1, 255, cv2.THRESH_BINARY_INV)[1]
    del gray
    mask255 = cv2.bitwise_and(dark, plain)  # 255 where ink
    layers = _colour_layers(image, dark, plain)
    del dark, plain
    ink = _median_colour(image, mask255) or (0, 0, 0)
    mask = encode_g4(mask255)
    factor = max(1, round(dpi / BACKGROUND_DPI))  # whole factors take OpenCV's fast path
    background, size = _background(image, mask255, factor, dpi)
    del mask255
    if is_gray:
        background = background.convert("L")
    return PageImage(
        "mrc",
        w,
        h,
        dpi,
        mask,
        gray=is_gray,
        background=_jpeg(background, BACKGROUND_QUALITY),
        background_size=size,
        ink=ink,
        colour_layers=layers,
    )


def _background(
    image: Image.Image, mask255: np.ndarray, factor: int, dpi: int
) -> tuple[Image.Image, tuple[int, int]]:
    """The page without its ink at 1/`factor` of its resolution: ink pixels and their
    anti-aliased rims are left out of each cell's average; cells that were mostly ink take
    the paper's colour. All in OpenCV on 8 bits, a band of rows at a time."""
    h, w = mask255.shape
    size = (max(1, w // factor), max(1, h // factor))
    r = max(1, round(dpi / 100))
    keep255 = cv2.bitwise_not(cv2.dilate(mask255, np.ones((2 * r + 1, 2 * r + 1), np.uint8)))
    if w < factor or h < factor:  # a sliver: no whole cell to average
        return Image.new("RGB", size, "white"), size
    weights, sums = [], []
    step = factor * max(1, BAND_ROWS // factor)  # bands of whole cells
    for rows, rgb in _rows(image, step, size[0] * factor, size[1] * factor):
        keep = keep255[rows, : size[0] * factor]
        cells = (size[0], (rows.stop - rows.start) // factor)
        weights.append(cv2.resize(keep, cells, interpolation=cv2.INTER_AREA))
        masked = cv2.bitwise_and(rgb, rgb, mask=keep)
        sums.append(cv2.resize(masked, cells, interpolation=cv2.INTER_AREA))
    del keep255
    weight, summed = np.vstack(weights), np.vstack(sums)
    bg = cv2.divide(summed, cv2.merge([weight] * 3), scale=255)
    valid = weight > 76  # at least 30% of the cell is not ink
    seen = bg[::8, ::8][valid[::8, ::8]]  # a sample: a full median costs 0.15 s per page
    bg[~valid] = np.median(seen, axis=0) if len(seen) else 255
    return Image.fromarray(bg, "RGB"), size


def _median_colour(image: Image.Image, mask255: np.ndarray) -> tuple[int, int, int] | None:
    """The median colour of the masked pixels, from every fourth pixel of every fourth row."""
    samples = [rgb[::4, ::4][mask255[rows][::4, ::4] > 0] for rows, rgb in _rows(image, BAND_ROWS)]
    sample = np.concatenate(samples) if samples else np.empty((0, 3), np.uint8)
    if not len(sample):
        return None
    r, g, b = (int(v) for v in np.median(sample, axis=0))
    return r, g, b


def _colour_layers(
    image: Image.Image, dark: np.ndarray, plain: np.ndarray
) -> list[tuple[bytes, tuple[int, int, int]]]:
    """Dark coloured ink as full-resolution masks: reddish (stamps) and the rest (pens),
    each painted in its median colour, so a stamp's thin ring stays sharp and red. The
    background keeps these pixels too, under the mask."""
    coloured = cv2.bitwise_not(plain)
    cv2.bitwise_and(dark, coloured, dst=coloured)
    if cv2.countNonZero(coloured) < COLOUR_MIN_SHARE * coloured.size:
        return []
    part = np.empty_like(coloured)  # reddish, then the rest: one buffer for both
    for rows, rgb in _rows(image, BAND_ROWS):
        r, g, b = cv2.split(rgb)
        part[rows] = cv2.compare(r, cv2.max(g, b), cv2.CMP_GE)
    cv2.bitwise_and(coloured, part, dst=part)
    layers = []
    for _ in ("reddish", "other"):
        colour = _median_colour(image, part)
        if colour and cv2.countNonZero(part) >= COLOUR_MIN_SHARE * part.size:
            layers.append((encode_g4(part), colour))
        cv2.subtract(coloured, part, dst=part)  # after the reddish ink: the rest
    return layers


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    mode = "L" if image.mode == "L" else "RGB"
    image.convert(mode).save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def encode_g4(ink: np.ndarray) -> bytes:
    """Raw CCITT Group 4 data of an ink image (True or non-zero = ink), one strip.

    Pillow writes mode "1" as BlackIsZero, so in a PDF the data decodes with `/BlackIs1 true`
    to 0 for ink (black in DeviceGray, painted in an image mask).
    """
    paper = np.where(ink, 0, 255).astype(np.uint8) if ink.dtype == bool else cv2.bitwise_not(ink)
    bits = Image.fromarray(paper, "L").convert("1", dither=Image.Dither.NONE)
    buf = io.BytesIO()
    # One strip for the whole image: its bytes are then the raw G4 stream a PDF takes.
    bits.save(buf, "TIFF", compression="group4", strip_size=2**31 - 1)
    with Image.open(io.BytesIO(buf.getvalue())) as tif:
        offsets, counts = tif.tag_v2[273], tif.tag_v2[279]
    offsets = offsets if isinstance(offsets, tuple) else (offsets,)
    counts = counts if isinstance(counts, tuple) else (counts,)
    if len(offsets) != 1:
        raise RuntimeError(f"expected one G4 strip, got {len(offsets)}")
    raw = buf.getvalue()
    return raw[offsets[0] : offsets[0] + counts[0]]
