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
WHOLE_PIXELS = 40_000_000  # up to this (A3 at 300 dpi), an RGB page is converted once, whole


@dataclass
class PageImage:
    """One page image ready for the PDF: `kind` is `g4`, `mrc` or `jpeg`.

    `data` is the JPEG (`jpeg`) or the raw CCITT G4 data of the full-resolution bilevel image
    (`g4`, and the ink mask of `mrc`, where 1 bits are ink). `background` is the MRC's JPEG
    layer of `background_size` pixels; `ink` the RGB colour the mask is painted in.
    `colour_layers` are further full-resolution masks of coloured ink (red stamps, blue pens),
    each with the colour it is painted in, drawn over the background before the black ink.
    An MRC mask covers only the box around its ink: `ink_box` for `data`, `colour_boxes`
    for the colour layers, as (x, y, width, height) in page pixels from the top left
    (None or missing: the whole page).
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
    ink_box: tuple[int, int, int, int] | None = None
    colour_boxes: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def size_bytes(self) -> int:
        layers = sum(len(data) for data, _ in self.colour_layers)
        return len(self.data) + len(self.background or b"") + layers


def encode_page_image(image: Image.Image, dpi: int, pixels: np.ndarray | None = None) -> PageImage:
    """Encode an upright page image (8-bit L or RGB) for the archival PDF. `pixels` may give
    the same image as an array (saves copying it out of Pillow)."""
    if pixels is not None and pixels.ndim == 3 and image.mode == "RGB":
        gray = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    else:
        gray, pixels = np.asarray(image.convert("L")), None
    return _encode(image, [gray], dpi, pixels)


def _encode(
    image: Image.Image, grey: list[np.ndarray], dpi: int, array: np.ndarray | None = None
) -> PageImage:
    """Choose the encoding from the pixels. A large sheet is never copied whole as RGB:
    colour work goes in bands of rows, so an A1 page at 300 dpi stays within bounds.
    `grey` holds the only reference to the page in grey, dropped once the ink is found."""
    gray = grey.pop()
    preview = _jpeg(Image.fromarray(gray).reduce(max(1, round(dpi / PREVIEW_DPI))), 75)
    pixels = _pixels(image) if array is None else array
    scan = _scan_colour(image, pixels, gray)
    is_gray = scan.top_chroma <= 8
    hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel()
    extremes = hist[:17].sum() + hist[240:].sum()
    w, h = image.size
    if is_gray and extremes >= BILEVEL_SHARE * gray.size:  # colour is never dropped
        page = PageImage("g4", w, h, dpi, encode_g4(gray < 128), gray=True)
    elif hist[65:192].sum() > PHOTO_MIDTONE_SHARE * gray.size:
        page = PageImage("jpeg", w, h, dpi, _jpeg(image, JPEG_QUALITY), gray=is_gray)
    else:
        otsu, _ = cv2.threshold(gray[::2, ::2], 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        threshold = min(float(otsu), 160.0)  # a blank-ish page must not become all ink
        dark = cv2.threshold(gray, threshold - 1, 255, cv2.THRESH_BINARY_INV)[1]
        del gray
        page = _mrc(pixels, [dark], scan, dpi, is_gray)
    page.preview = preview
    return page


def _rows(
    image: Image.Image | np.ndarray, step: int, width: int = 0, height: int = 0
) -> Iterator[tuple[slice, np.ndarray]]:
    """The page (or its top-left `width` x `height`) as RGB arrays of `step` rows at a time;
    the last band may be shorter. A page already given as an RGB array is sliced."""
    full_h, full_w = (
        (image.shape[0], image.shape[1])
        if isinstance(image, np.ndarray)
        else (
            image.height,
            image.width,
        )
    )
    width, height = width or full_w, height or full_h
    for y in range(0, height, step):
        y1 = min(height, y + step)
        if isinstance(image, np.ndarray):
            yield slice(y, y1), image[y:y1, :width]
            continue
        band = image.crop((0, y, width, y1))
        yield slice(y, y1), np.asarray(band if band.mode == "RGB" else band.convert("RGB"))


def _pixels(image: Image.Image) -> Image.Image | np.ndarray:
    """An RGB page up to WHOLE_PIXELS as one array (one conversion for every pass over it);
    a larger one stays an image that `_rows` converts a band at a time."""
    if image.mode == "RGB" and image.width * image.height <= WHOLE_PIXELS:
        return np.asarray(image)
    return image


@dataclass
class _ColourScan:
    """What one pass over a page's RGB tells: `classes` per pixel (PLAIN: colourless, up to
    INK_MAX_CHROMA; REDDISH: coloured with red the largest channel; OTHER: other coloured),
    None for a grey image; the largest chroma; every fourth pixel of every fourth row."""

    classes: np.ndarray | None
    top_chroma: int
    sample: np.ndarray


PLAIN, REDDISH, OTHER = 255, 1, 2


def _scan_colour(
    image: Image.Image, pixels: Image.Image | np.ndarray, gray: np.ndarray
) -> _ColourScan:
    """One pass over the page in bands of rows (see `_ColourScan`)."""
    if image.mode == "L":
        return _ColourScan(None, 0, cv2.cvtColor(gray[::4, ::4], cv2.COLOR_GRAY2RGB))
    classes = np.empty(gray.shape, np.uint8)
    top, samples = 0, []
    for rows, rgb in _rows(pixels, BAND_ROWS):
        r, g, b = cv2.split(rgb)
        gb = cv2.max(g, b)
        chroma = cv2.subtract(cv2.max(r, gb), cv2.min(cv2.min(r, g), b))
        top = max(top, int(cv2.minMaxLoc(chroma)[1]))
        plain = cv2.threshold(chroma, INK_MAX_CHROMA, PLAIN, cv2.THRESH_BINARY_INV)[1]
        reddish = cv2.compare(r, gb, cv2.CMP_GE)  # 255 or 0
        other = np.subtract(OTHER, reddish >> 7, dtype=np.uint8)  # 1 or 2
        classes[rows] = cv2.max(plain, other)
        samples.append(rgb[::4, ::4])
    return _ColourScan(classes, top, np.vstack(samples))


def _ink_of(dark: np.ndarray, classes: np.ndarray | None, kind: int) -> np.ndarray:
    """255 where a dark pixel is of colour class `kind` (one new full-size array)."""
    if classes is None:
        return dark.copy() if kind == PLAIN else np.zeros_like(dark)
    out = cv2.compare(classes, kind, cv2.CMP_EQ)
    return cv2.bitwise_and(dark, out, dst=out)


def _mrc(
    image: Image.Image | np.ndarray,
    darks: list[np.ndarray],
    scan: _ColourScan,
    dpi: int,
    is_gray: bool,
) -> PageImage:
    """Masks first, each encoded and freed as soon as it is done: on a large sheet every
    full-size mask costs as much as a megapixel count in MB. `darks` holds the only
    reference to the mask of dark pixels."""
    dark = darks.pop()
    h, w = dark.shape
    layers, boxes = _colour_layers(dark, scan)
    mask255 = _ink_of(dark, scan.classes, PLAIN)  # 255 where ink
    del dark
    scan.classes = None
    ink = _median_colour(scan.sample, mask255) or (0, 0, 0)
    mask, box = encode_g4_box(mask255)
    factor = max(1, -(-dpi // BACKGROUND_DPI))  # whole factors take OpenCV's fast path
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
        ink_box=box,
        colour_boxes=boxes,
    )


def _background(
    image: Image.Image | np.ndarray, mask255: np.ndarray, factor: int, dpi: int
) -> tuple[Image.Image, tuple[int, int]]:
    """The page without its ink at 1/`factor` of its resolution: ink pixels and their
    anti-aliased rims are left out of each cell's average; cells that were mostly ink take
    the paper's colour. All in OpenCV on 8 bits, a band of rows at a time."""
    h, w = mask255.shape
    size = (max(1, w // factor), max(1, h // factor))
    r = max(1, round(dpi / 100))
    if w < factor or h < factor:  # a sliver: no whole cell to average
        return Image.new("RGB", size, "white"), size
    kernel = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
    weights, sums = [], []
    step = factor * max(1, BAND_ROWS // factor)  # bands of whole cells
    for rows, rgb in _rows(image, step, size[0] * factor, size[1] * factor):
        # the dilated ink of this band, from the mask rows around it
        y0, y1 = max(0, rows.start - r), min(h, rows.stop + r)
        grown = cv2.dilate(mask255[y0:y1, : size[0] * factor], kernel)
        keep = cv2.bitwise_not(grown[rows.start - y0 : rows.stop - y0])
        cells = (size[0], (rows.stop - rows.start) // factor)
        weights.append(cv2.resize(keep, cells, interpolation=cv2.INTER_AREA))
        masked = cv2.bitwise_and(rgb, rgb, mask=keep)
        sums.append(cv2.resize(masked, cells, interpolation=cv2.INTER_AREA))
    weight, summed = np.vstack(weights), np.vstack(sums)
    bg = cv2.divide(summed, cv2.merge([weight] * 3), scale=255)
    valid = weight > 76  # at least 30% of the cell is not ink
    seen = bg[::8, ::8][valid[::8, ::8]]  # a sample: a full median costs 0.15 s per page
    bg[~valid] = np.median(seen, axis=0) if len(seen) else 255
    return Image.fromarray(bg, "RGB"), size


def _median_colour(sample: np.ndarray, mask255: np.ndarray) -> tuple[int, int, int] | None:
    """The median colour of the masked pixels, from every fourth pixel of every fourth row
    (`sample` holds those pixels)."""
    picked = sample[mask255[::4, ::4] > 0]
    if not len(picked):
        return None
    r, g, b = (int(v) for v in np.median(picked, axis=0))
    return r, g, b


def _colour_layers(
    dark: np.ndarray, scan: _ColourScan
) -> tuple[list[tuple[bytes, tuple[int, int, int]]], list[tuple[int, int, int, int]]]:
    """Dark coloured ink as full-resolution masks, each cropped to the box around its ink:
    reddish (stamps) and the rest (pens), each painted in its median colour, so a stamp's
    thin ring stays sharp and red. The background keeps these pixels too, under the mask."""
    if scan.classes is None:
        return [], []
    least = COLOUR_MIN_SHARE * dark.size
    coloured = cv2.compare(scan.classes, PLAIN, cv2.CMP_NE)
    count = cv2.countNonZero(cv2.bitwise_and(dark, coloured, dst=coloured))
    del coloured
    if count < least:
        return [], []
    layers, boxes = [], []
    for kind in (REDDISH, OTHER):
        part = _ink_of(dark, scan.classes, kind)
        colour = _median_colour(scan.sample, part)
        if colour and cv2.countNonZero(part) >= least:
            data, box = encode_g4_box(part)
            layers.append((data, colour))
            boxes.append(box)
        del part
    return layers, boxes


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    mode = "L" if image.mode == "L" else "RGB"
    image.convert(mode).save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def encode_g4_box(ink255: np.ndarray) -> tuple[bytes, tuple[int, int, int, int]]:
    """G4 data of the box around the ink of a 0/255 mask, and that box (x, y, width,
    height); a mask without ink gives one empty pixel. Coding the box only is up to five
    times faster than the page: libtiff's time goes with the rows and their width."""
    x, y, bw, bh = cv2.boundingRect(ink255)
    if bw == 0 or bh == 0:
        x, y, bw, bh = 0, 0, 1, 1
    return encode_g4(ink255[y : y + bh, x : x + bw]), (x, y, bw, bh)


_PAPER_LUT = [0 if v else 255 for v in range(256)]  # ink (non-zero) to 0, paper to 1


def encode_g4(ink: np.ndarray) -> bytes:
    """Raw CCITT Group 4 data of an ink image (True or non-zero = ink), one strip.

    Pillow writes mode "1" as BlackIsZero, so in a PDF the data decodes with `/BlackIs1 true`
    to 0 for ink (black in DeviceGray, painted in an image mask).
    """
    if ink.dtype == bool:
        bits = Image.fromarray(~ink)  # mode "1", paper as 1
    else:  # one pass, no inverted copy of the mask (a large sheet's mask is ~70 MB)
        bits = Image.fromarray(np.ascontiguousarray(ink)).point(_PAPER_LUT, "1")
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
