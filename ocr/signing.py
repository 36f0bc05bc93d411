"""The digitizing official's signature on the archival copy (PAdES, pyHanko).

The key comes from a PKCS#12 file or a PKCS#11 token (`SignerConfig`). The visible block
(name and time) sits at the top left of page 1, in the first place there that covers no
word read on the page; its font is embedded (DejaVu Sans, which has every Vietnamese
letter), so the signed file stays PDF/A-2b. The signature is an incremental update: the
signed bytes are the unsigned PDF/A file followed by the signature.
"""

from __future__ import annotations

import functools
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.stamp import TextStampStyle

from models.document import Word

FIELD_NAME = "ChuKySo"  # "digital signature"
BOX_SIZE = (200.0, 34.0)  # points: two lines of 8 pt text in a thin frame
FONT_SIZE = 8
EDGE = 10.0  # points kept clear from the page edge and from the nearest word
FONT_PATHS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf"),
)
STAMP_TEXT = "Người số hóa: %(signer)s\nThời gian: %(ts)s"

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in PDF points, origin bottom left


@dataclass
class SignerConfig:
    """Where a clerk's signing key is: a PKCS#12 file, or a PKCS#11 token."""

    name: str = ""  # shown in the visible block; default: the certificate's common name
    pkcs12: Path | None = None
    pkcs12_password: str | None = None
    pkcs11_lib: str | None = None
    pkcs11_token: str | None = None
    pkcs11_key: str | None = None  # label of the key and certificate on the token
    pkcs11_pin: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.pkcs12 or self.pkcs11_lib)


def load_signer(config: SignerConfig) -> signers.Signer:
    """The pyHanko signer for a configuration (PKCS#12 file or PKCS#11 token)."""
    if config.pkcs12:
        password = config.pkcs12_password.encode() if config.pkcs12_password else None
        signer = signers.SimpleSigner.load_pkcs12(str(config.pkcs12), passphrase=password)
        if signer is None:
            raise ValueError(f"cannot load the PKCS#12 file {config.pkcs12}")
        return _rsa_only(signer)
    if config.pkcs11_lib:
        # needs python-pkcs11, only for token users
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign import pkcs11

        session = pkcs11.open_pkcs11_session(
            config.pkcs11_lib,
            token_criteria=TokenCriteria(label=config.pkcs11_token),
            user_pin=config.pkcs11_pin,
        )
        return _rsa_only(pkcs11.PKCS11Signer(session, cert_label=config.pkcs11_key))
    raise ValueError("no signing key configured")


def _rsa_only(signer: signers.Signer) -> signers.Signer:
    """Refuse keys that would turn the copy into PDF 2.0 (pyHanko registers the ISO 32002
    extension for EC keys), which PDF/A-2b does not allow."""
    cert = signer.signing_cert
    if cert is not None and cert.public_key.algorithm != "rsa":
        raise ValueError(
            f"a {cert.public_key.algorithm} signing key would make the copy PDF 2.0, "
            "outside PDF/A-2b: use an RSA key"
        )
    return signer


def sign_pdf(
    data: bytes,
    config: SignerConfig,
    *,
    avoid: list[Box] | None = None,
    reason: str = "Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính",
) -> bytes:
    """Sign a PDF (PAdES B-B) with a visible block at the top left of page 1 that covers
    none of the `avoid` boxes (the words of page 1)."""
    signer = load_signer(config)
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    page = writer.root["/Pages"]["/Kids"][0]
    x0, y0, x1, y1 = (float(v) for v in page["/MediaBox"])
    box = free_box((x1 - x0, y1 - y0), avoid or [])
    name = config.name or signer.subject_name or ""
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        name=name or None,
        reason=reason,
        md_algorithm="sha256",
    )
    style = TextStampStyle(
        stamp_text=STAMP_TEXT,
        timestamp_format="%d/%m/%Y %H:%M:%S %z",
        text_box_style=TextBoxStyle(
            font=GlyphAccumulatorFactory(str(_font_path()), FONT_SIZE), font_size=FONT_SIZE
        ),
        border_width=1,
        background=None,
    )
    pdf_signer = signers.PdfSigner(
        meta,
        signer=signer,
        stamp_style=style,
        new_field_spec=fields.SigFieldSpec(FIELD_NAME, on_page=0, box=box),
    )
    out = io.BytesIO()
    try:
        pdf_signer.sign_pdf(writer, output=out, appearance_text_params={"signer": name})
    finally:
        session = getattr(signer, "pkcs11_session", None)
        if session is not None:
            session.close()
    return out.getvalue()


def free_box(page_size: tuple[float, float], avoid: list[Box]) -> Box:
    """The highest place at the left of the page, then further right, where a signature
    block of BOX_SIZE fits without touching any avoided box; the top left corner if none."""
    width, height = page_size
    bw, bh = BOX_SIZE
    step = 4.0
    x_positions = [EDGE + i * 24.0 for i in range(int(max(0, width / 2 - bw) // 24.0) + 1)]
    top = height - EDGE
    while top - bh >= height / 2:
        for x in x_positions:
            box = (x, top - bh, x + bw, top)
            if not any(_touches(box, other) for other in avoid):
                return box
        top -= step
    return (EDGE, height - EDGE - bh, EDGE + bw, height - EDGE)


def word_boxes(words: list[Word], dpi: int, page_height_pt: float) -> list[Box]:
    """Word boxes in pixels of the upright page as PDF boxes (points, origin bottom left)."""
    k = 72.0 / dpi
    return [
        (w.left * k, page_height_pt - (w.top + w.height) * k, (w.left + w.width) * k,
         page_height_pt - w.top * k)
        for w in words
    ]  # fmt: skip


def _touches(a: Box, b: Box, gap: float = 2.0) -> bool:
    return not (
        a[2] + gap <= b[0] or b[2] + gap <= a[0] or a[3] + gap <= b[1] or b[3] + gap <= a[1]
    )


# What a signature block writes (NFC Vietnamese names, dates, punctuation): the font is cut
# down to these once, so that pyHanko parses and subsets ~1,000 glyphs per signature, not
# DejaVu's 6,000 with their layout tables (0.3 s of a 0.5 s signature before).
VIETNAMESE = [
    *range(0x20, 0x7F), *range(0xA0, 0x180), *range(0x1A0, 0x1B1), *range(0x300, 0x324),
    *range(0x1EA0, 0x1EFA), *range(0x2010, 0x2031), 0x20AB,
]  # fmt: skip


def _keep_vietnamese(font: TTFont) -> None:
    """Cut the font down to the glyphs of `VIETNAMESE`, without OpenType layout tables
    (NFC text uses precomposed letters, which need no mark positioning)."""
    options = subset.Options()
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "FFTM"]
    options.layout_features = []
    options.notdef_outline = True
    cutter = subset.Subsetter(options)
    cutter.populate(unicodes=VIETNAMESE)
    cutter.subset(font)


@functools.cache
def _font_path() -> Path:
    """The block's font, scaled to 1000 units per em: pyHanko writes glyph widths in font
    units, which only a 1000-unit font gets right (DejaVu has 2048: letters spread apart)."""
    source = next((p for p in FONT_PATHS if p.exists()), None)
    if source is None:
        raise FileNotFoundError("no Vietnamese-capable font for the signature block")
    cache = Path(tempfile.gettempdir()) / f"sohoa-fonts-{os.getuid()}"
    target = cache / f"{source.stem}-vi-1000upem.ttf"
    if not target.exists():
        cache.mkdir(exist_ok=True)
        font = TTFont(source)
        if font["head"].unitsPerEm != 1000:
            scale_upem(font, 1000)
        _keep_vietnamese(font)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        font.save(tmp)
        os.replace(tmp, target)
    return target
