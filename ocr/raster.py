"""Page images encoded for the archival PDF: small, colour kept, text sharp.

Three encodings, chosen per page from its pixels:

- `g4`: a bilevel scan (only black and white pixels) as CCITT Group 4, lossless.
- `mrc`: a text page (mixed raster content): the dark ink as full-resolution bilevel masks
  (CCITT G4: colourless ink, reddish ink such as stamps, other coloured ink such as pens),
  each painted in its ink's colour, over a low-resolution JPEG of everything else (paper
  tone, faint marks). Text stays as sharp as the scan; colour is kept where it is.
- `jpeg`: a photograph-like page (many mid-tones) as one full-resolution JPEG.

Cost: the encoding runs on every page, on a core that Tesseract would otherwise use, so its
full-resolution work is kept to one pass over the colour (ink masks, colour classes and the
largest chroma at once, a band of rows at a time, no full-size class map unless there is
coloured ink) and one for the background (one plane on a grey page); the masks go to
libtiff's G4 coder straight from their bytes, and everything else works on 1/4 or 1/16
samples. Whole-page numpy work with boolean masks or broadcasting costs 10-25 ms a page and
is avoided (OpenCV instead).
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
GREY_MAX_CHROMA = 8  # a page whose largest chroma is at most this is grey
PHOTO_MIDTONE_SHARE = 0.25  # pages with more mid-tone pixels than this are kept as one JPEG
COLOUR_MIN_SHARE = 0.0002  # coloured ink below this share of the page stays in the background
PREVIEW_DPI = 25  # the page preview kept for perceptual hashing
BILEVEL_SHARE = 0.999  # share of pure black or white pixels that makes a page bilevel
# Rows of a page worked on at a time (a multiple of 4, for the colour sample): each band's
# temporaries stay small (64 rows of an A1 sheet at 300 dpi are 1.3 MB of RGB).
BAND_ROWS = 64
WHOLE_PIXELS = 40_000_000  # up to this (A3 at 300 dpi), an RGB page is converted once, whole

PLAIN, REDDISH, OTHER = 255, 1, 2  # ink classes: colourless, red the largest channel, other


@dataclass
class PageImage:
    """One page image ready for the PDF: `kind` is `g4`, `mrc` or `jpeg`.

    `data` is the JPEG (`jpeg`) or the raw CCITT G4 data of the full-resolution bilevel image
    (`g4`, and the ink mask of `mrc`). `background` is the MRC's JPEG layer of
    `background_size` pixels; `ink` the RGB colour the mask is painted in.
    `colour_layers` are further full-resolution masks of coloured ink (red stamps, blue pens),
    each with the colour it is painted in, drawn over the background before the black ink.
    An MRC mask covers only the box around its ink: `ink_box` for `data`, `colour_boxes`
    for the colour layers, as (x, y, width, height) in page pixels from the top left
    (None or missing: the whole page).
    `g4_ink_black`: the G4 data codes ink as the fax "black" runs (the usual convention,
    `/BlackIs1 false` in the PDF); False for images encoded before that, which coded ink as
    "white" runs (`/BlackIs1 true`) and may still be stored as page parts.
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
    g4_ink_black: bool = False

    @property
    def size_bytes(self) -> int:
        layers = sum(len(data) for data, _ in self.colour_layers)
        return len(self.data) + len(self.background or b"") + layers


def encode_page_image(image: Image.Image, dpi: int, pixels: np.ndarray | None = None) -> PageImage:
    """Encode an upright page image (8-bit L or RGB) for the archival PDF. `pixels` may give
    the same image as an array (saves copying it out of Pillow)."""
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    if image.mode == "L":
        gray = np.asarray(image)
        page = _encode(image, [gray], dpi, gray)
    else:
        if pixels is None or pixels.ndim != 3:
            pixels = _pixels(image)
        if pixels is None:  # a large sheet: converted a band at a time
            gray = np.asarray(image.convert("L"))
        else:
            gray = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
        page = _encode(image, [gray], dpi, pixels)
    page.g4_ink_black = True
    return page


def _pixels(image: Image.Image) -> np.ndarray | None:
    """An RGB page up to WHOLE_PIXELS as one array (one conversion for every pass over it);
    None for a larger one, which `_rows` converts a band at a time."""
    if image.width * image.height <= WHOLE_PIXELS:
        return np.asarray(image)
    return None


def _encode(
    image: Image.Image, grey: list[np.ndarray], dpi: int, array: np.ndarray | None
) -> PageImage:
    """Choose the encoding from the pixels. A large sheet is never copied whole as RGB:
    colour work goes in bands of rows, so an A1 page at 300 dpi stays within bounds.
    `grey` holds the only reference to the page in grey (unless `array` is it), dropped
    once the ink is found."""
    gray = grey.pop()
    w, h = image.size
    preview = _preview(gray, max(1, round(dpi / PREVIEW_DPI)))
    source = image if array is None else array
    hist, otsu = _tones(gray)
    bilevel = hist[:17].sum() + hist[240:].sum() >= BILEVEL_SHARE * hist.sum()
    if image.mode == "L" and bilevel:
        page = PageImage("g4", w, h, dpi, encode_g4(gray < 128), gray=True)
    elif hist[65:192].sum() > PHOTO_MIDTONE_SHARE * hist.sum():
        is_gray = image.mode == "L" or _top_chroma(source) <= GREY_MAX_CHROMA
        shown = Image.fromarray(gray) if is_gray else image
        page = PageImage("jpeg", w, h, dpi, _jpeg(shown, JPEG_QUALITY), gray=is_gray)
    else:
        threshold = min(otsu, 160.0)  # a blank-ish page must not become all ink
        ink = _find_ink(source, gray, threshold)
        if ink.top_chroma <= GREY_MAX_CHROMA and bilevel:  # an RGB scan of a bilevel page
            page = PageImage("g4", w, h, dpi, encode_g4(gray < 128), gray=True)
        else:
            # the background of a grey page is made from the grey (one plane, not three);
            # a large sheet's grey is dropped here, its background made from RGB bands
            if image.mode == "L" or (ink.top_chroma <= GREY_MAX_CHROMA and array is not None):
                source = gray
            del gray
            page = _mrc(source, ink, dpi)
    page.preview = preview
    return page


def _preview(gray: np.ndarray, factor: int) -> bytes:
    """A small grey JPEG of the page, 1/`factor` of its size (a partial last cell dropped)."""
    h, w = gray.shape
    if h < factor or w < factor:
        return _jpeg(Image.fromarray(gray).reduce(factor), 75)
    small = cv2.resize(
        gray[: h - h % factor, : w - w % factor],
        (w // factor, h // factor),
        interpolation=cv2.INTER_AREA,  # a whole factor: OpenCV's fast path
    )
    return _jpeg(Image.fromarray(small), 75)


def _tones(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """The histogram of a grey page and its Otsu threshold, from a quarter of its pixels."""
    sample = np.ascontiguousarray(gray[::2, ::2])
    hist = cv2.calcHist([sample], [0], None, [256], [0, 256]).ravel()
    otsu, _ = cv2.threshold(sample, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return hist, float(otsu)


def _rows(
    image: Image.Image | np.ndarray, step: int, width: int = 0, height: int = 0
) -> Iterator[tuple[slice, np.ndarray]]:
    """The page (or its top-left `width` x `height`) as arrays of `step` rows at a time;
    the last band may be shorter. A page already given as an array is sliced."""
    if isinstance(image, np.ndarray):
        full_h, full_w = image.shape[:2]
    else:
        full_w, full_h = image.size
    width, height = width or full_w, height or full_h
    for y in range(0, height, step):
        y1 = min(height, y + step)
        if isinstance(image, np.ndarray):
            yield slice(y, y1), image[y:y1, :width]
        else:
            yield slice(y, y1), np.asarray(image.crop((0, y, width, y1)))


def _is_grey(source: Image.Image | np.ndarray) -> bool:
    return source.ndim == 2 if isinstance(source, np.ndarray) else source.mode == "L"


def _chroma(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Max - min of R, G, B per pixel, and the R plane and max(G, B) (for `REDDISH`)."""
    r, g, b = cv2.split(rgb)
    gb = cv2.max(g, b)
    return cv2.subtract(cv2.max(r, gb), cv2.min(cv2.min(r, g), b)), r, gb


def _top_chroma(source: Image.Image | np.ndarray) -> int:
    """The largest chroma on an RGB page."""
    return max(int(cv2.minMaxLoc(_chroma(rgb)[0])[1]) for _, rgb in _rows(source, BAND_ROWS))


class _Box:
    """The box around ink found band by band, as (x, y, width, height)."""

    def __init__(self) -> None:
        self.x0 = self.y0 = 1 << 30
        self.x1 = self.y1 = 0

    def add(self, mask: np.ndarray, top: int) -> None:
        x, y, w, h = cv2.boundingRect(mask)
        if w and h:
            self.x0, self.x1 = min(self.x0, x), max(self.x1, x + w)
            self.y0, self.y1 = min(self.y0, top + y), max(self.y1, top + y + h)

    def rect(self) -> tuple[int, int, int, int]:
        """The box; (0, 0, 1, 1) when no ink was added (one empty pixel)."""
        if self.x1 <= self.x0:
            return 0, 0, 1, 1
        return self.x0, self.y0, self.x1 - self.x0, self.y1 - self.y0


@dataclass
class _Ink:
    """What one pass over a page tells: `plain` is 255 where dark colourless ink is (or all
    dark ink, on a grey page); `colour` is REDDISH or OTHER where dark coloured ink is, 0
    elsewhere (None: no coloured ink), with each class's pixel count and box; the largest
    chroma; every fourth pixel of every fourth row (RGB, or grey on a grey page)."""

    plain: np.ndarray
    plain_box: _Box
    top_chroma: int
    sample: np.ndarray
    colour: np.ndarray | None = None
    counts: dict[int, int] = field(default_factory=lambda: {REDDISH: 0, OTHER: 0})
    boxes: dict[int, _Box] = field(default_factory=lambda: {REDDISH: _Box(), OTHER: _Box()})


def _find_ink(source: Image.Image | np.ndarray, gray: np.ndarray, threshold: float) -> _Ink:
    """Pixels darker than `threshold` sorted into colourless and coloured ink, in one pass
    over the page in bands of rows (see `_Ink`). Full-size arrays: the plain mask, and the
    colour classes only once a band holds coloured ink."""
    plain = np.empty(gray.shape, np.uint8)
    if _is_grey(source):
        cv2.threshold(gray, threshold - 1, 255, cv2.THRESH_BINARY_INV, dst=plain)
        box = _Box()
        box.add(plain, 0)
        return _Ink(plain, box, 0, gray[::4, ::4])
    ink = _Ink(plain, _Box(), 0, np.empty((0, 3), np.uint8))
    whole = isinstance(source, np.ndarray)  # else a sheet read in bands: its sample is copied
    samples = []
    for rows, rgb in _rows(source, BAND_ROWS):
        dark = cv2.threshold(gray[rows], threshold - 1, 255, cv2.THRESH_BINARY_INV)[1]
        chroma, r, gb = _chroma(rgb)
        ink.top_chroma = max(ink.top_chroma, int(cv2.minMaxLoc(chroma)[1]))
        coloured = cv2.threshold(chroma, INK_MAX_CHROMA, 255, cv2.THRESH_BINARY)[1]
        ink.plain_box.add(cv2.subtract(dark, coloured, dst=plain[rows]), rows.start)
        if not whole:
            samples.append(rgb[::4, ::4])
        dark_colour = cv2.bitwise_and(dark, coloured)
        if not cv2.countNonZero(dark_colour):
            continue
        if ink.colour is None:
            ink.colour = np.zeros(gray.shape, np.uint8)
        reddish = cv2.compare(r, gb, cv2.CMP_GE)
        for kind, part in (
            (REDDISH, cv2.bitwise_and(dark_colour, reddish)),
            (OTHER, cv2.subtract(dark_colour, reddish)),
        ):
            if n := cv2.countNonZero(part):
                ink.counts[kind] += n
                ink.boxes[kind].add(part, rows.start)
                ink.colour[rows][part > 0] = kind
    ink.sample = source[::4, ::4] if whole else np.vstack(samples)
    return ink


def _mrc(source: Image.Image | np.ndarray, ink: _Ink, dpi: int) -> PageImage:
    """Masks cut to the box around their ink, then the background of the rest."""
    h, w = ink.plain.shape
    is_gray = ink.top_chroma <= GREY_MAX_CHROMA
    layers, boxes = _colour_layers(ink)
    ink.colour = None
    box = ink.plain_box.rect()
    colour = _median_colour(ink.sample, ink.plain, box) or (0, 0, 0)
    mask = _g4_crop(ink.plain, box)
    factor = max(1, -(-dpi // BACKGROUND_DPI))  # whole factors take OpenCV's fast path
    background = _background(source, ink.plain, factor, dpi)
    if is_gray and background.ndim == 3:
        background = cv2.cvtColor(background, cv2.COLOR_RGB2GRAY)
    return PageImage(
        "mrc",
        w,
        h,
        dpi,
        mask,
        gray=is_gray,
        background=_jpeg(Image.fromarray(background), BACKGROUND_QUALITY),
        background_size=(background.shape[1], background.shape[0]),
        ink=colour,
        colour_layers=layers,
        ink_box=box,
        colour_boxes=boxes,
    )


def _colour_layers(
    ink: _Ink,
) -> tuple[list[tuple[bytes, tuple[int, int, int]]], list[tuple[int, int, int, int]]]:
    """Dark coloured ink as full-resolution masks, each cropped to the box around its ink:
    reddish (stamps) and the rest (pens), each painted in its median colour, so a stamp's
    thin ring stays sharp and red. The background keeps these pixels too, under the mask."""
    least = COLOUR_MIN_SHARE * ink.plain.size
    if ink.colour is None or sum(ink.counts.values()) < least:
        return [], []
    layers, boxes = [], []
    for kind in (REDDISH, OTHER):
        if ink.counts[kind] < least:
            continue
        x, y, bw, bh = box = ink.boxes[kind].rect()
        colour = _median_colour(ink.sample, ink.colour, box, kind)
        if colour:
            part = cv2.compare(ink.colour[y : y + bh, x : x + bw], kind, cv2.CMP_EQ)
            layers.append((encode_g4(part), colour))
            boxes.append(box)
    return layers, boxes


def _background(
    source: Image.Image | np.ndarray, mask255: np.ndarray, factor: int, dpi: int
) -> np.ndarray:
    """The page without its ink at 1/`factor` of its resolution: ink pixels and their
    anti-aliased rims are left out of each cell's average; cells that were mostly ink take
    the paper's colour. All in OpenCV on 8 bits, a band of rows at a time; one plane for a
    grey `source`, three for RGB."""
    h, w = mask255.shape
    size = (max(1, w // factor), max(1, h // factor))
    grey = _is_grey(source)
    if w < factor or h < factor:  # a sliver: no whole cell to average
        return np.full(size[::-1] if grey else (*size[::-1], 3), 255, np.uint8)
    r = max(1, round(dpi / 100))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * r + 1, 2 * r + 1))
    weight = np.empty(size[::-1], np.uint8)  # share of each cell that is not ink, x 255
    bg = np.empty(weight.shape if grey else (*weight.shape, 3), np.uint8)
    step = factor * max(1, BAND_ROWS // factor)  # bands of whole cells
    for rows, band in _rows(source, step, size[0] * factor, size[1] * factor):
        # the dilated ink of this band, from the mask rows around it
        y0, y1 = max(0, rows.start - r), min(h, rows.stop + r)
        grown = cv2.dilate(mask255[y0:y1, : size[0] * factor], kernel)
        keep = cv2.bitwise_not(grown[rows.start - y0 : rows.stop - y0])
        cells = slice(rows.start // factor, rows.stop // factor)
        shape = (size[0], cells.stop - cells.start)
        cv2.resize(keep, shape, dst=weight[cells], interpolation=cv2.INTER_AREA)
        masked = cv2.bitwise_and(band, keep if grey else cv2.cvtColor(keep, cv2.COLOR_GRAY2RGB))
        cv2.resize(masked, shape, dst=bg[cells], interpolation=cv2.INTER_AREA)
    cv2.divide(bg, weight if grey else cv2.cvtColor(weight, cv2.COLOR_GRAY2RGB), dst=bg, scale=255)
    valid = weight > 76  # at least 30% of the cell is not ink
    seen = bg[::8, ::8][valid[::8, ::8]]  # a sample: a full median costs 0.15 s per page
    tone = np.median(seen, axis=0).astype(np.uint8) if len(seen) else np.uint8(255)
    # the paper's tone, whole (OpenCV: numpy takes 25 ms to broadcast 3 values over a page)
    paper = cv2.merge([np.full(weight.shape, v, np.uint8) for v in np.atleast_1d(tone)])
    cv2.copyTo(paper, cv2.compare(weight, 76, cv2.CMP_LE), bg)
    return bg


def _median_colour(
    sample: np.ndarray,
    mask: np.ndarray,
    box: tuple[int, int, int, int],
    kind: int | None = None,
) -> tuple[int, int, int] | None:
    """The median colour of the pixels in `box` where `mask` is non-zero (or equals `kind`),
    from every fourth pixel of every fourth row (`sample` holds those of the whole page,
    RGB or grey, often as a view of it)."""
    x, y, w, h = box
    i0, j0 = -(-y // 4), -(-x // 4)  # the first sampled row and column in the box
    picked = mask[4 * i0 : y + h : 4, 4 * j0 : x + w : 4]
    picked = picked > 0 if kind is None else picked == kind
    values = sample[i0 : i0 + picked.shape[0], j0 : j0 + picked.shape[1]][picked]
    if not len(values):
        return None
    r, g, b = (int(v) for v in np.broadcast_to(np.median(values, axis=0), 3))
    return r, g, b


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    image.save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def encode_g4_box(ink255: np.ndarray) -> tuple[bytes, tuple[int, int, int, int]]:
    """G4 data of the box around the ink of a 0/255 mask, and that box (x, y, width,
    height); a mask without ink gives one empty pixel. Coding the box only is up to five
    times faster than the page: libtiff's time goes with the rows and their width."""
    x, y, bw, bh = cv2.boundingRect(ink255)
    box = (x, y, bw, bh) if bw and bh else (0, 0, 1, 1)
    return _g4_crop(ink255, box), box


def _g4_crop(ink255: np.ndarray, box: tuple[int, int, int, int]) -> bytes:
    """G4 data of the box (x, y, width, height) of an ink mask, read in place when the mask
    is C-contiguous (no copy of a large sheet's mask)."""
    x, y, bw, bh = box
    if not ink255.flags.c_contiguous or ink255.dtype != np.uint8:
        return encode_g4(ink255[y : y + bh, x : x + bw])
    start = ink255.ravel()[y * ink255.shape[1] + x :]
    return _g4(Image.frombuffer("1", (bw, bh), start, "raw", "1;8", ink255.shape[1], 1))


def encode_g4(ink: np.ndarray) -> bytes:
    """Raw CCITT Group 4 data of an ink image (True or non-zero = ink), one strip.

    Ink is coded as the fax "black" runs and paper as "white" (the usual convention: in a
    PDF, `/BlackIs1 false` decodes ink to 0, black in DeviceGray, painted in an image mask).
    """
    ink = np.ascontiguousarray(ink).view(np.uint8)
    h, w = ink.shape
    return _g4(Image.frombuffer("1", (w, h), ink, "raw", "1;8", 0, 1))


def _g4(bits: Image.Image) -> bytes:
    """The G4 data of a mode "1" image whose 1 bits are ink (Pillow's libtiff coder)."""
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
