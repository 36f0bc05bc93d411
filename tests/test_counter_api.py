"""The counter page's own endpoints (api/routes_counter.py), over HTTP.

`LiveServer` runs the real app under uvicorn on a free port (server-sent events need a real
server); the browser tests and bench/counter_bench.py reuse it.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest
import uvicorn
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

import api.pipeline
from api.app import create_app
from api.settings import Settings
from storage.auth import create_key
from storage.reuse import set_status
from tests.conftest import png_bytes
from tests.pages import DECISION, distort, render_page
from tests.registry_helpers import register

OWNER = "079203012345"
CCCD_QR = f"{OWNER}|215123456|Nguyễn Văn An|12032003|Nam|123 Nguyễn Trãi, Quận 5|10082021"
PROCEDURE = "xd.gpxd_nha_o_rieng_le"  # needs don_to_khai, can_cuoc, gcn_qsdd, ban_ve


class LiveServer:
    """`sohoa serve`'s app under uvicorn in a thread, on a free port, with its own data dir."""

    def __init__(self, data_dir: Path, **settings: object) -> None:
        self.settings = Settings(
            data_dir=data_dir, watch_stable_seconds=0.3, watch_poll_seconds=0.2, **settings
        )
        self.app = create_app(self.settings)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app, port=self.port, log_level="warning", timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        end = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > end or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        with self.ctx.sessions.begin() as session:
            self.clerk = create_key(session, "clerk", "quầy 1")[1]
            self.scanner = create_key(session, "scanner", "máy quét")[1]
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)

    @property
    def ctx(self) -> api.pipeline.Context:
        return self.app.state.ctx

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"X-API-Key": key if key is not None else self.clerk}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def register_id_card(self, owner: str = OWNER) -> tuple[str, str]:
        """A verified ID card of `owner` in the registry; returns (record id, result code)."""
        with self.ctx.sessions.begin() as session:
            cid = register(
                session,
                "CĂN CƯỚC CÔNG DÂN Số 079203012345 Nguyễn Văn An",
                key=f"can-cuoc-{owner}",
                doc_type="can_cuoc",
                owners=(owner,),
                fields={"ma_dinh_danh": owner, "ho_ten": "Nguyễn Văn An", "ngay_cap": "2021-08-10"},
            )
            from storage.tables import Component

            comp = session.get(Component, cid)
            assert comp is not None
            set_status(session, comp, "verified", actor="test")
            return cid, comp.result_code or ""


def events(client: httpx.Client, code: str, until, timeout: float = 90) -> list[dict]:
    """Read the dossier's server-sent events until `until(view)` holds; returns every view."""
    seen: list[dict] = []
    end = time.monotonic() + timeout
    url = f"/api/v1/counter/dossiers/{code}/events"
    with client.stream("GET", url, timeout=httpx.Timeout(10, read=timeout)) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        event = ""
        for line in r.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event == "dossier":
                view = json.loads(line[5:])
                seen.append(view)
                if view and until(view):
                    return seen
            if time.monotonic() > end:
                break
    raise AssertionError(f"condition not met in {timeout} s; last view: {seen[-1:]}")


def card_image(text: str = CCCD_QR) -> bytes:
    """A scanned card: the QR on a card-sized page with some text, as JPEG."""
    qr = Image.fromarray(np.array(zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode)
                                  .to_image(scale=5)))  # fmt: skip
    page = render_page(["CĂN CƯỚC CÔNG DÂN", "Số / No.: 079203012345"], paper="A5", dpi=150)
    page.paste(qr.convert("RGB"), (500, 500))
    buf = io.BytesIO()
    page.save(buf, "JPEG", quality=90)
    return buf.getvalue()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("counter") / "var") as s:
        yield s


@pytest.fixture
def clerk(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


def test_root_redirects_to_the_counter_page_served_without_cdn(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path / "v", watch=False))) as c:
        r = c.get("/", follow_redirects=False)
        assert r.status_code == 307 and r.headers["location"] == "/counter/"
        page = c.get("/counter/")
        assert page.status_code == 200 and '<html lang="vi">' in page.text
        assert "Tiếp nhận hồ sơ" in page.text and "Đăng nhập" in page.text
        assert "http://" not in page.text and "https://" not in page.text  # nothing from outside
        for asset in ("counter.js", "counter.css"):
            r = c.get(f"/counter/static/{asset}")
            assert r.status_code == 200 and "https://" not in r.text, asset


def test_counter_endpoints_need_a_clerk_key(server: LiveServer) -> None:
    with server.client("") as anon, server.client(server.scanner) as scanner:
        assert anon.get("/api/v1/counter/catalogue").status_code == 401
        assert scanner.get("/api/v1/counter/catalogue").status_code == 403
        assert anon.get("/api/v1/counter/dossiers/X-1/events").status_code == 401
        # the stream never takes the key from the URL
        r = anon.get("/api/v1/counter/dossiers/X-1/events", params={"key": server.clerk})
        assert r.status_code == 401


def test_catalogue_and_dossier_code(clerk: httpx.Client) -> None:
    cat = clerk.get("/api/v1/counter/catalogue").json()
    names = {t["code"]: t["name"] for t in cat["types"]}
    assert names["giay_khai_sinh"] == "Giấy khai sinh"
    assert "ma_dinh_danh" in next(t["fields"] for t in cat["types"] if t["code"] == "can_cuoc")
    assert cat["procedures"][PROCEDURE].startswith("Cấp giấy phép xây dựng")
    first = clerk.get("/api/v1/counter/dossier-code").json()["code"]
    assert first.startswith("000.00.00.H00-") and first.endswith("-0001")
    assert clerk.put(f"/api/v1/dossiers/{first}/procedure",
                     json={"procedure_code": PROCEDURE}).status_code == 200  # fmt: skip
    second = clerk.get("/api/v1/counter/dossier-code").json()["code"]
    assert second == first[:-4] + "0002"


def test_id_card_qr_gives_the_personal_id(clerk: httpx.Client) -> None:
    r = clerk.post("/api/v1/counter/id-card", files={"file": ("the.jpg", card_image())})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "owner_id": OWNER,
        "old_id": "215123456",
        "name": "Nguyễn Văn An",
        "birth_date": "2003-03-12",
    }
    blank = png_bytes(render_page(["CĂN CƯỚC CÔNG DÂN"], paper="A5", dpi=100))
    r = clerk.post("/api/v1/counter/id-card", files={"file": ("blank.png", blank)})
    assert r.status_code == 422 and "QR" in r.json()["error"]
    r = clerk.post("/api/v1/counter/id-card", files={"file": ("x.png", b"not an image")})
    assert r.status_code == 422


def test_upload_progress_review_reuse_and_receipt(server: LiveServer, clerk: httpx.Client) -> None:
    record, result_code = server.register_id_card()
    code = "000.00.00.H00-261123-0099"
    assert clerk.put(f"/api/v1/dossiers/{code}/procedure",
                     json={"procedure_code": PROCEDURE}).status_code == 200  # fmt: skip
    view = clerk.get(f"/api/v1/counter/dossiers/{code}").json()
    assert view["components"] == [] and view["reused"] == []
    assert view["drop_folder"].endswith(code)
    assert clerk.post(f"/api/v1/dossiers/{code}/links",
                      json={"document_id": record}).status_code == 200  # fmt: skip

    scan = png_bytes(distort(render_page(DECISION, dpi=200), rotation=90, skew=-3))
    r = clerk.post(f"/api/v1/dossiers/{code}/files", files={"file": ("qd.png", scan)},
                   data={"owner": OWNER})  # fmt: skip
    assert r.status_code == 202, r.text
    cid = r.json()["id"]
    seen = events(clerk, code, lambda v: v["components"] and v["components"][0]["reviewable"])
    statuses = [p["status"] for v in seen for c in v["components"] for p in c["pages"]]
    assert statuses[-1] == "done" and len(seen) >= 2  # progress came in more than one event
    assert {"queued", "reading"} & set(statuses)
    comp = seen[-1]["components"][0]
    assert comp["id"] == cid and comp["type"] == "quyet_dinh"
    assert comp["fields"]["so_ky_hieu"]["value"] == "123/QĐ-UBND"
    assert comp["fields"]["so_ky_hieu"]["source"] == "ocr"
    assert comp["owners"] == [OWNER] and seen[-1]["reused"][0]["id"] == record
    if comp["status"] == "reviewable":  # registered once its archival PDF is built
        assert comp["registry_status"] is None and comp["pdf"] is None
        seen = events(clerk, code, lambda v: v["components"][0]["status"] == "done")
        comp = seen[-1]["components"][0]
    assert comp["registry_status"] == "draft" and comp["pdf"]
    page = comp["pages"][0]
    assert page["rotation"] == 90 and page["thumb_before"] and page["thumb_after"]

    # thumbnails: as scanned (landscape, turned) and upright (portrait)
    before = Image.open(io.BytesIO(clerk.get(page["thumb_before"]).content))
    after = Image.open(io.BytesIO(clerk.get(page["thumb_after"]).content))
    assert before.format == after.format == "JPEG" and max(after.size) <= 480
    assert before.width > before.height and after.height > after.width
    assert _upright_score(after) > _upright_score(after.rotate(180))

    # the clerk corrects a field and confirms: verified, the correction is the clerk's
    r = clerk.post(f"/api/v1/documents/{cid}/corrections",
                   json={"fields": {"co_quan_cap": "Sở Xây dựng tỉnh Tây Ninh"}})  # fmt: skip
    assert r.status_code == 200, r.text
    assert clerk.post(f"/api/v1/documents/{cid}/verify", json={}).status_code == 200
    comp = clerk.get(f"/api/v1/counter/dossiers/{code}").json()["components"][0]
    assert comp["registry_status"] == "verified" and comp["result_code"]
    assert comp["fields"]["co_quan_cap"] == {
        "value": "Sở Xây dựng tỉnh Tây Ninh", "source": "clerk", "confidence": 1.0, "low": False,
    }  # fmt: skip

    receipt = clerk.get(f"/api/v1/counter/dossiers/{code}/receipt").json()
    assert receipt["procedure_name"].startswith("Cấp giấy phép xây dựng")
    [done] = receipt["digitized"]
    assert done["type_name"].startswith("Văn bản hành chính") and done["number"] == "123/QĐ-UBND"
    assert done["date"] == "2023-05-05" and done["result_code"] == comp["result_code"]
    [reused] = receipt["reused"]
    assert reused["type"] == "can_cuoc" and reused["result_code"] == result_code
    assert "Bản vẽ kỹ thuật" in receipt["missing"] and receipt["pending"] == 0

    # page edits: B's contract (edit_pages / add_pages) when present, else a clear 501
    if hasattr(api.pipeline, "edit_pages") and comp["page_edit"]:
        ids = [p["id"] for p in comp["pages"]]
        pages_url = f"/api/v1/counter/components/{cid}/pages"
        r = clerk.put(pages_url, json={"page_ids": [ids[0] + 999]})
        assert r.status_code == 422 and "not pages of this component" in r.json()["error"]
        r = clerk.post(pages_url, files={"file": ("x.png", b"not an image")})
        assert r.status_code == 422
        r = clerk.post("/api/v1/counter/components/nope/pages", files={"file": ("x.png", scan)})
        assert r.status_code == 404
        with _status(server, cid, "processing"):  # being read: no edits meanwhile
            assert clerk.put(pages_url, json={"page_ids": ids}).status_code == 409
        r = clerk.put(pages_url, json={"page_ids": ids})
        assert r.status_code == 200 and r.json()["status"] == "queued", r.text
        seen = events(clerk, code, lambda v: v["components"][0]["status"] == "done")
        again = seen[-1]["components"][0]
        assert again["registry_status"] == "verified"
        assert again["result_code"] == comp["result_code"]
        assert again["fields"]["co_quan_cap"]["source"] == "clerk"  # the correction is kept
    else:
        r = clerk.put(f"/api/v1/counter/components/{cid}/pages", json={"page_ids": [1]})
        assert r.status_code == 501


@contextmanager
def _status(server: LiveServer, component_id: str, status: str) -> Iterator[None]:
    """The component shows `status` for a while (then its own again)."""
    from storage.tables import Component

    with server.ctx.sessions.begin() as session:
        comp = session.get(Component, component_id)
        assert comp is not None
        was, comp.status = comp.status, status
    try:
        yield
    finally:
        with server.ctx.sessions.begin() as session:
            session.get(Component, component_id).status = was  # type: ignore[union-attr]


def _upright_score(img: Image.Image) -> float:
    """Text pages are darker at the top (header lines) than at the bottom (blank margin)."""
    a = 255 - np.asarray(img.convert("L"), dtype=float)
    half = a.shape[0] // 2
    return float(a[:half].mean() - a[half:].mean())
