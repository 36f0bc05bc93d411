"""The digitizing official's PAdES signature: valid, visible at the top left, still PDF/A-2b."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pikepdf
import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from api.pipeline import Context, digitize, submit
from api.settings import Settings
from models.document import Word
from ocr.pdf import PdfPage, build_searchable_pdf
from ocr.pdfa import DigitizationRecord, check_pdfa, read_record
from ocr.raster import encode_page_image
from ocr.signing import BOX_SIZE, SignerConfig, free_box, sign_pdf, word_boxes
from tests.certs import Throwaway, make_throwaway_signer
from tests.conftest import png_bytes

DC = "{http://purl.org/dc/elements/1.1/}"


@pytest.fixture(scope="module")
def clerk(tmp_path_factory: pytest.TempPathFactory) -> Throwaway:
    return make_throwaway_signer(tmp_path_factory.mktemp("certs"))


def validate(data: bytes, ca_pem: bytes):
    """pyHanko's verdict on the one signature of `data`, trusting only the throwaway CA."""
    _, _, der = pem.unarmor(ca_pem)
    (sig,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
    return sig, validate_pdf_signature(
        sig, ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)])
    )


def signature_rect(data: bytes) -> tuple[float, ...]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        (field,) = pdf.Root.AcroForm.Fields
        assert pdf.pages[0].obj == field.P  # on page 1
        return tuple(float(v) for v in field.Rect)


def test_free_box_is_top_left_and_avoids_words() -> None:
    a4 = (595.0, 842.0)
    x0, y0, x1, y1 = free_box(a4, [])
    assert x0 < 20 and y1 > 820 and (x1 - x0, y1 - y0) == BOX_SIZE
    header = [(50.0, 800.0, 300.0, 830.0)]  # a line of text near the top left
    box = free_box(a4, header)
    assert box[3] <= 800 - 2 or box[0] >= 300 + 2
    assert box[0] < a4[0] / 2 and box[1] > a4[1] / 2  # still in the top left quarter


def test_word_boxes_turn_pixels_into_points() -> None:
    word = Word("Số", left=300, top=150, width=150, height=60, confidence=90)
    assert word_boxes([word], 300, 842.0) == [(72.0, 842.0 - 50.4, 108.0, 842.0 - 36.0)]


def test_signed_copy_validates_and_stays_pdfa(clerk: Throwaway, decision_page: Image.Image) -> None:
    page = decision_page  # 200 dpi, text from 20 mm below the top
    words = [Word("UBND", 157, 157, 300, 40, 95)]  # the header's first word, in pixels
    record = DigitizationRecord(type="quyet_dinh", digitizer=clerk.name)
    unsigned = build_searchable_pdf([PdfPage(encode_page_image(page, 200), None)], record)
    height_pt = page.height * 72 / 200
    avoid = word_boxes(words, 200, height_pt)
    signed = sign_pdf(
        unsigned, SignerConfig(pkcs12=clerk.pkcs12, pkcs12_password=clerk.password), avoid=avoid
    )
    assert signed.startswith(unsigned)  # an incremental update: the copy itself is unchanged
    sig, status = validate(signed, clerk.ca_pem)
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert clerk.name in status.signing_cert.subject.human_friendly
    assert check_pdfa(signed) == []
    assert read_record(signed)[f"{DC}type"] == {"quyet_dinh"}
    x0, y0, x1, y1 = signature_rect(signed)
    assert x0 < 30 and y1 > height_pt - 30  # top left of page 1
    assert all(x1 < a or y0 > d for a, _b, _c, d in avoid)  # covers no word
    with pikepdf.open(io.BytesIO(signed)) as pdf:
        (field,) = pdf.Root.AcroForm.Fields
        assert int(field.F) & 4 and "/N" in field.AP  # printed, with its appearance
        fonts = [f for f in pdf.objects if isinstance(f, pikepdf.Dictionary) and "/FontFile2" in f]
        assert fonts  # the block's font is embedded


def test_tampering_breaks_the_signature(clerk: Throwaway, decision_page: Image.Image) -> None:
    unsigned = build_searchable_pdf(
        [PdfPage(encode_page_image(decision_page.reduce(2), 100), None)]
    )
    signed = bytearray(
        sign_pdf(unsigned, SignerConfig(pkcs12=clerk.pkcs12, pkcs12_password=clerk.password))
    )
    at = signed.index(b"/Producer")  # inside the signed range
    signed[at + 1 : at + 2] = b"Q"
    _, status = validate(bytes(signed), clerk.ca_pem)
    assert not status.intact


def test_wrong_password_and_ec_keys_are_refused(clerk: Throwaway, tmp_path: Path) -> None:
    unsigned = build_searchable_pdf(
        [PdfPage(encode_page_image(Image.new("L", (200, 280), 255), 25), None)]
    )
    with pytest.raises(ValueError):
        sign_pdf(unsigned, SignerConfig(pkcs12=clerk.pkcs12, pkcs12_password="sai"))
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "EC clerk")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(1)
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    path = tmp_path / "ec.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(b"ec", key, cert, None, serialization.NoEncryption())
    )
    with pytest.raises(ValueError, match="RSA"):
        sign_pdf(unsigned, SignerConfig(pkcs12=path))


def test_pipeline_signs_with_the_clerks_key_and_records_the_digitization(
    clerk: Throwaway, decision_page: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signing is configuration: a key configured for the clerk who submitted the file."""
    signers = f'{{"quay-3": {{"pkcs12": "{clerk.pkcs12}", "password": "{clerk.password}", '
    signers += f'"name": "{clerk.name}"}}}}'
    monkeypatch.setenv("SOHOA_SIGNERS", signers)
    monkeypatch.setenv("SOHOA_PAGE_WORKERS", "1")
    ctx = Context.from_settings(Settings())
    data = png_bytes(decision_page)
    sub = submit(ctx, data, "qd.png", actor="quay-3")
    result = digitize(ctx, sub.component_id)
    assert result.status == "done", result.error
    signed = Path(result.pdf).read_bytes()
    _, status = validate(signed, clerk.ca_pem)
    assert status.bottom_line
    assert check_pdfa(signed) == []
    rec = read_record(signed)
    assert rec[f"{DC}type"] == {result.type}
    assert rec[f"{DC}contributor"] == {clerk.name}
    assert rec[f"{DC}identifier"] == result.fields["so_ky_hieu"].value == "123/QĐ-UBND"
    assert rec[f"{DC}source"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert f"{DC}relation" not in rec  # no dossier, and owners' IDs stay out by default


SOFTHSM = Path("/usr/lib/softhsm/libsofthsm2.so")


@pytest.mark.skipif(
    not SOFTHSM.exists() or not shutil.which("softhsm2-util"), reason="SoftHSM not installed"
)
def test_signing_with_a_pkcs11_token(
    clerk: Throwaway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clerk's key on a PKCS#11 token (SoftHSM standing in for a USB token)."""
    pkcs11 = pytest.importorskip("pkcs11")
    (tmp_path / "tokens").mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    util = ["softhsm2-util", "--pin", "1234"]
    subprocess.run(
        [*util, "--init-token", "--free", "--label", "quay3", "--so-pin", "5678"],
        check=True, capture_output=True,
    )  # fmt: skip
    key = tmp_path / "key.pem"
    key.write_bytes(clerk.key_pem)
    subprocess.run(
        [*util, "--import", str(key), "--token", "quay3", "--label", "clerk", "--id", "01"],
        check=True, capture_output=True,
    )  # fmt: skip
    cert = x509.load_der_x509_certificate(clerk.cert_der)
    token = pkcs11.lib(str(SOFTHSM)).get_token(token_label="quay3")
    with token.open(rw=True, user_pin="1234") as session:
        session.create_object(
            {
                pkcs11.Attribute.CLASS: pkcs11.ObjectClass.CERTIFICATE,
                pkcs11.Attribute.CERTIFICATE_TYPE: pkcs11.CertificateType.X_509,
                pkcs11.Attribute.TOKEN: True,
                pkcs11.Attribute.LABEL: "clerk",
                pkcs11.Attribute.ID: b"\x01",
                pkcs11.Attribute.VALUE: clerk.cert_der,
                pkcs11.Attribute.SUBJECT: cert.subject.public_bytes(),
                pkcs11.Attribute.ISSUER: cert.issuer.public_bytes(),
                pkcs11.Attribute.SERIAL_NUMBER: cert.serial_number.to_bytes(20, "big"),
            }
        )
    unsigned = build_searchable_pdf(
        [PdfPage(encode_page_image(Image.new("L", (200, 280), 255), 25), None)]
    )
    config = SignerConfig(
        pkcs11_lib=str(SOFTHSM), pkcs11_token="quay3", pkcs11_key="clerk", pkcs11_pin="1234"
    )
    signed = sign_pdf(unsigned, config)
    _, status = validate(signed, clerk.ca_pem)
    assert status.bottom_line
    assert check_pdfa(signed) == []
