"""The HTTP API round trip: upload, result, PDF, query by owner, and bad input."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from api.settings import Settings
from storage.auth import create_key
from tests.conftest import png_bytes, word_recall
from tests.pages import distort

OWNER = "001099012345"


@pytest.fixture
def client(tmp_path: Path):
    settings = Settings(
        data_dir=tmp_path / "api-var", watch_stable_seconds=0.3, watch_poll_seconds=0.2
    )
    with TestClient(create_app(settings)) as c:
        c.settings = settings  # type: ignore[attr-defined]
        c.keys = make_keys(c)  # type: ignore[attr-defined]
        c.headers["X-API-Key"] = c.keys["clerk"]  # type: ignore[attr-defined]
        yield c


def make_keys(client: TestClient) -> dict[str, str]:
    """One key per role (and a system key limited to ID cards), as tokens."""
    with client.app.state.ctx.sessions.begin() as session:  # type: ignore[attr-defined]
        keys = {role: create_key(session, role, f"test {role}")[1] for role in
                ("clerk", "scanner", "system", "admin")}  # fmt: skip
        keys["system_id_cards"] = create_key(session, "system", "police", ["can_cuoc"])[1]
    return keys


def wait_done(client: TestClient, url: str, timeout: float = 120) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        body = client.get(url).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"{url} not finished in {timeout} s")


def test_upload_result_pdf_and_owner_query(
    client: TestClient, decision_page, decision_words, tmp_path: Path
) -> None:
    scan = png_bytes(distort(decision_page, rotation=90, skew=-4))
    r = client.post(
        "/api/v1/dossiers/000.00.01.H56-231123-0001/files",
        files={"file": ("quyet-dinh.png", scan, "image/png")},
        data={"owner": OWNER},
    )
    assert r.status_code == 202, r.text
    accepted = r.json()
    assert accepted["status"] == "queued" and accepted["duplicate"] is False
    body = wait_done(client, accepted["url"])
    assert body["status"] == "done", body
    assert body["type"] == "quyet_dinh"
    assert body["pages"][0]["rotation"] == 90
    assert body["fields"]["so_ky_hieu"] == "123/QĐ-UBND"
    assert body["field_sources"]["ngay_cap"]["source"] == "ocr"
    assert word_recall(decision_words, body["pages"][0]["text"]) >= 0.97

    pdf = client.get(body["pdf"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    out = tmp_path / "dl.pdf"
    out.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert word_recall(decision_words, text) >= 0.97

    docs = client.get(f"/api/v1/owners/{OWNER}/documents", params={"purpose": "test"}).json()
    assert [d["id"] for d in docs["documents"]] == [accepted["id"]]
    assert docs["documents"][0]["fields"]["so_ky_hieu"]["value"] == "123/QĐ-UBND"
    other = client.get("/api/v1/owners/079203099999/documents", params={"purpose": "test"})
    assert other.json()["documents"] == []

    dossier = client.get("/api/v1/dossiers/000.00.01.H56-231123-0001").json()
    assert [c["id"] for c in dossier["components"]] == [accepted["id"]]

    # the reuse path: verify, look up first, link into a new dossier instead of re-scanning
    doc_id = accepted["id"]
    record = client.get(f"/api/v1/documents/{doc_id}").json()
    assert record["registry_status"] == "draft" and record["so_ky_hieu"] == "123/QĐ-UBND"
    assert record["result_code"].startswith("000.00.01.H56.KQ")
    assert client.post(f"/api/v1/documents/{doc_id}/verify").json()["reusable"] is True
    lookup = client.get(
        "/api/v1/lookup",
        params={"owner_id": OWNER, "procedure": "xd.gpxd_nha_o_rieng_le", "purpose": "test"},
    ).json()
    assert lookup["available"]["quyet_dinh"] == [doc_id] and "can_cuoc" in lookup["missing"]
    link = client.post(
        "/api/v1/dossiers/000.00.01.H56-231124-0002/links", json={"document_id": doc_id}
    ).json()
    assert link["created"] and link["reuse_count"] == 1
    again_d = client.get("/api/v1/dossiers/000.00.01.H56-231124-0002").json()
    assert again_d["reused"] == [doc_id] and again_d["components"] == []
    found = client.get("/api/v1/documents", params={"q": "quyết định", "purpose": "test"})
    assert [d["id"] for d in found.json()["documents"]] == [doc_id]
    pdf2 = client.get(f"/api/v1/documents/{doc_id}/pdf")
    assert pdf2.status_code == 200 and pdf2.content == pdf.content

    again = client.post(
        "/api/v1/dossiers/000.00.01.H56-231123-0001/files",
        files={"file": ("again.png", scan, "image/png")},
    )
    assert again.json()["id"] == accepted["id"] and again.json()["duplicate"] is True


def test_bad_uploads_get_4xx_json_and_the_service_goes_on(client: TestClient) -> None:
    r = client.post("/api/v1/components", files={"file": ("x.txt", b"plain text", "text/plain")})
    assert r.status_code == 422
    body = r.json()
    assert "not a PNG, JPEG, TIFF or PDF" in body["error"] and body["component_id"]
    kept = client.get(f"/api/v1/components/{body['component_id']}").json()
    assert kept["status"] == "failed" and kept["error"] == body["error"]

    r = client.post("/api/v1/components", files={"file": ("e.png", b"", "image/png")})
    assert r.status_code == 422 and "empty" in r.json()["error"]
    truncated = png_bytes(Image.new("RGB", (300, 400), "white"))
    r = client.post("/api/v1/components", files={"file": ("t.png", truncated[:200], "image/png")})
    assert r.status_code == 422 and "unreadable" in r.json()["error"]

    assert client.get("/api/v1/components/nope").status_code == 404
    assert client.get("/api/v1/components/nope").json() == {"error": "no such component"}
    assert client.get("/api/v1/owners/12ab/documents?purpose=test").status_code == 422
    assert (
        client.post("/api/v1/dossiers/a%20b/files", files={"file": ("a.png", b"x")}).status_code
        == 422
    )
    assert client.get("/healthz").json() == {"status": "ok"}


def test_drop_folder_scan_is_digitized_into_its_dossier(client: TestClient, decision_page) -> None:
    inbox = client.settings.inbox  # type: ignore[attr-defined]
    folder = inbox / "DOSSIER-7"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scan.png.part").write_bytes(png_bytes(decision_page))
    (folder / "scan.png.part").rename(folder / "scan.png")
    end = time.monotonic() + 60
    while time.monotonic() < end and not (inbox / "done" / "DOSSIER-7" / "scan.png").exists():
        time.sleep(0.2)
    assert (inbox / "done" / "DOSSIER-7" / "scan.png").exists()
    comps = client.get("/api/v1/dossiers/DOSSIER-7").json()["components"]
    assert len(comps) == 1
    body = wait_done(client, f"/api/v1/components/{comps[0]['id']}")
    assert body["type"] == "quyet_dinh" and body["source"] == "DOSSIER-7/scan.png"


def test_openapi_documents_the_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for p in (
        "/api/v1/dossiers/{code}/files",
        "/api/v1/components/{component_id}",
        "/api/v1/components/{component_id}/pdf",
        "/api/v1/owners/{owner_id}/documents",
    ):
        assert p in paths
    assert client.get("/docs").status_code == 200


def test_an_upload_over_the_size_limit_is_refused_with_413(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "small-var", max_upload_mb=1, watch=False)
    with TestClient(create_app(settings)) as c:
        c.headers["X-API-Key"] = make_keys(c)["scanner"]
        big = b"\x89PNG\r\n\x1a\n" + b"\0" * (1024 * 1024)
        r = c.post("/api/v1/components", files={"file": ("big.png", big, "image/png")})
        assert r.status_code == 413
        assert "larger than 1 MB" in r.text
        ok = c.post("/api/v1/components", files={"file": ("x.txt", b"hello", "text/plain")})
        assert ok.status_code == 422  # under the limit: read, then refused as not a scan
