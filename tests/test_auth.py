"""Access rules, the audit trail and bad input on the registry API (generated records, no OCR)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.registry_helpers import register
from tests.test_api import make_keys

CCCD = "079203012345"
HOUSE = "xd.gpxd_nha_o_rieng_le"


@pytest.fixture
def client(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "var", watch=False)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        c.keys = make_keys(c)  # type: ignore[attr-defined]
        with c.app.state.ctx.sessions.begin() as s:  # type: ignore[attr-defined]
            c.ids = {  # type: ignore[attr-defined]
                "card": register(s, "Căn cước công dân", key="card", doc_type="can_cuoc",
                                 owners=(CCCD,), fields={"so_ky_hieu": "079203012345"}),
                "land": register(s, "Giấy chứng nhận quyền sử dụng đất thửa đất số 12",
                                 key="land", doc_type="gcn_qsdd", owners=(CCCD,),
                                 fields={"ngay_cap": "2019-04-02", "co_quan_cap": "Sở TNMT"}),
            }  # fmt: skip
        yield c


def as_(client: TestClient, role: str) -> dict[str, str]:
    return {"X-API-Key": client.keys[role]}  # type: ignore[attr-defined]


def test_reuse_path_look_up_link_and_dossier_states(client: TestClient) -> None:
    clerk = as_(client, "clerk")
    card, land = client.ids["card"], client.ids["land"]  # type: ignore[attr-defined]
    lookup = {"owner_id": CCCD, "procedure": HOUSE, "purpose": "hồ sơ xin phép xây dựng"}
    r = client.get("/api/v1/lookup", params=lookup, headers=clerk)
    assert r.status_code == 200 and r.json()["documents"] == []  # drafts are not offered
    assert r.json()["missing"] == ["don_to_khai", "can_cuoc", "gcn_qsdd", "ban_ve"]
    for doc in (card, land):
        v = client.post(f"/api/v1/documents/{doc}/verify", headers=clerk, json={"fields": {}})
        assert v.status_code == 200 and v.json()["registry_status"] == "verified"
    body = client.get("/api/v1/lookup", params=lookup, headers=clerk).json()
    assert {d["id"] for d in body["documents"]} == {card, land}
    assert body["missing"] == ["don_to_khai", "ban_ve"] and body["available"]["can_cuoc"] == [card]
    assert body["documents"][0]["result_code"] and body["documents"][0]["reusable"]

    code = "000.00.01.H56-231123-0007"
    r = client.put(f"/api/v1/dossiers/{code}/procedure", json={"procedure_code": HOUSE},
                   headers=clerk)  # fmt: skip
    assert r.status_code == 200 and {s["state"] for s in r.json()} == {"missing"}
    for doc in (card, land):
        r = client.post(f"/api/v1/dossiers/{code}/links", json={"document_id": doc}, headers=clerk)
        assert r.status_code == 200 and r.json()["created"] and r.json()["reuse_count"] == 1
    r = client.post(f"/api/v1/dossiers/{code}/links", json={"document_id": card}, headers=clerk)
    assert r.json()["created"] is False and r.json()["reuse_count"] == 1
    d = client.get(f"/api/v1/dossiers/{code}", headers=clerk).json()
    states = {s["type"]: s["state"] for s in d["component_states"]}
    assert states["can_cuoc"] == states["gcn_qsdd"] == "reused"
    assert states["don_to_khai"] == states["ban_ve"] == "missing"
    assert d["procedure_code"] == HOUSE and set(d["reused"]) == {card, land}

    r = client.post(f"/api/v1/documents/{land}/revoke", json={"reason": "thu hồi"}, headers=clerk)
    assert r.status_code == 200 and r.json()["reusable"] is False
    body = client.get("/api/v1/lookup", params=lookup, headers=clerk).json()
    assert [d["id"] for d in body["documents"]] == [card]  # revoked: never offered again
    r = client.post(f"/api/v1/dossiers/D-2/links", json={"document_id": land}, headers=clerk)  # noqa: F541
    assert r.status_code == 409 and "revoked" in r.json()["error"]
    still = client.get(f"/api/v1/documents/{land}", headers=clerk)
    assert still.status_code == 200 and still.json()["registry_status"] == "revoked"

    rep = client.get("/api/v1/reports/reuse", params={"group_by": ["type"]},
                     headers=as_(client, "admin")).json()  # fmt: skip
    by_type = {r["type"]: r for r in rep["rows"]}
    assert by_type["can_cuoc"]["reused"] == 1 and by_type["can_cuoc"]["digitized"] == 1


def test_query_filters_full_text_and_pagination(client: TestClient) -> None:
    clerk = as_(client, "clerk")
    q = lambda **p: client.get("/api/v1/documents", params={"purpose": "kiểm tra", **p},  # noqa: E731
                               headers=clerk)  # fmt: skip
    land = client.ids["land"]  # type: ignore[attr-defined]
    assert [d["id"] for d in q(q="thửa đất").json()["documents"]] == [land]
    assert [d["id"] for d in q(q="thua dat").json()["documents"]] == [land]
    assert [d["id"] for d in q(type="gcn_qsdd").json()["documents"]] == [land]
    assert [d["id"] for d in q(issued_from="2019-01-01", issued_to="2019-12-31").json()[
        "documents"]] == [land]  # fmt: skip
    assert q(issuer="Sở TNMT").json()["documents"][0]["id"] == land
    page1 = q(owner_id=CCCD, limit=1).json()
    page2 = q(owner_id=CCCD, limit=1, offset=1).json()
    assert page1["next_offset"] == 1 and page2["next_offset"] is None
    assert {page1["documents"][0]["id"], page2["documents"][0]["id"]} == set(
        client.ids.values()  # type: ignore[attr-defined]
    )
    assert q(status="verified").json()["documents"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"owner_id": "12ab"},
        {"owner_id": "0792030123456789"},
        {"type": "no_such_type"},
        {"limit": 10**9},
        {"limit": 0},
        {"offset": -1},
        {"issued_from": "2019-13-45"},
        {"status": "deleted"},
        {"q": '" OR 1=1 --'},
        {"q": "NEAR(a b) AND *"},
        {"q": "'; DROP TABLE components; --"},
        {"q": "((("},
        {"q": "x" * 600},
        {"purpose": ""},
    ],
)
def test_bad_query_input_gets_a_clear_4xx(client: TestClient, params: dict) -> None:
    r = client.get("/api/v1/documents", params={"purpose": "kiểm tra", **params},
                   headers=as_(client, "clerk"))  # fmt: skip
    assert r.status_code in (200, 422), r.text
    assert "error" in r.json() if r.status_code == 422 else "documents" in r.json()
    bad = {"owner_id": CCCD, "procedure": "nope", "purpose": "x" * 5}
    assert client.get("/api/v1/lookup", params=bad, headers=as_(client, "clerk")).status_code == 422


# (method, path, roles allowed); anything else gets 403
RULES = [
    ("GET", "/api/v1/lookup?owner_id=079203012345&procedure=" + HOUSE + "&purpose=abc",
     {"clerk", "system"}),
    ("GET", "/api/v1/documents?purpose=abc", {"clerk", "system"}),
    ("GET", "/api/v1/documents/{card}", {"clerk", "system"}),
    ("GET", "/api/v1/owners/079203012345/documents?purpose=abc", {"clerk", "system"}),
    ("GET", "/api/v1/components/{card}", {"clerk", "system", "scanner"}),
    ("POST", "/api/v1/documents/{card}/verify", {"clerk"}),
    ("POST", "/api/v1/dossiers/D-1/links", {"clerk"}),
    ("GET", "/api/v1/reports/reuse", {"clerk", "admin"}),
    ("GET", "/api/v1/keys", {"admin"}),
    ("GET", "/api/v1/audit", {"admin"}),
    ("POST", "/api/v1/components", {"clerk", "scanner"}),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "allowed"), RULES)
def test_each_role_reaches_only_its_endpoints(client, method, path, allowed) -> None:
    path = path.format(**client.ids)
    body = {"json": {"document_id": client.ids["card"]}} if path.endswith("links") else {}
    if path.endswith("/components"):
        body = {"files": {"file": ("a.png", b"not an image", "image/png")}}
    assert client.request(method, path, **body).status_code == 401
    bad = {"X-API-Key": "sohoa_000000000000_nope"}
    assert client.request(method, path, headers=bad, **body).status_code == 401
    for role in ("clerk", "scanner", "system", "admin"):
        r = client.request(method, path, headers=as_(client, role), **body)
        if role in allowed:
            assert r.status_code not in (401, 403), (role, r.text)
        else:
            assert r.status_code == 403, (role, r.status_code)
            assert "error" in r.json()


def test_system_key_is_limited_to_its_component_types(client: TestClient) -> None:
    police = as_(client, "system_id_cards")
    card, land = client.ids["card"], client.ids["land"]  # type: ignore[attr-defined]
    assert client.get(f"/api/v1/documents/{card}", headers=police).status_code == 200
    assert client.get(f"/api/v1/documents/{land}", headers=police).status_code == 403
    assert client.get(f"/api/v1/components/{land}/pdf", headers=police).status_code == 403
    found = client.get("/api/v1/documents", params={"owner_id": CCCD, "purpose": "xác minh"},
                       headers=police).json()["documents"]  # fmt: skip
    assert [d["id"] for d in found] == [card]
    owner = client.get(f"/api/v1/owners/{CCCD}/documents", params={"purpose": "xác minh"},
                       headers=police).json()["documents"]  # fmt: skip
    assert [d["id"] for d in owner] == [card]


def test_keys_are_created_by_admins_and_revocable(client: TestClient) -> None:
    admin = as_(client, "admin")
    r = client.post("/api/v1/keys", json={"role": "clerk", "name": "quầy 3"}, headers=admin)
    assert r.status_code == 201 and r.json()["token"].startswith("sohoa_")
    token, kid = r.json()["token"], r.json()["id"]
    listed = client.get("/api/v1/keys", headers=admin).json()
    assert all(k["token"] is None for k in listed) and kid in {k["id"] for k in listed}
    assert client.get("/api/v1/procedures", headers={"X-API-Key": token}).status_code == 200
    assert client.delete(f"/api/v1/keys/{kid}", headers=admin).json()["revoked"] is True
    assert client.get("/api/v1/procedures", headers={"X-API-Key": token}).status_code == 401
    assert client.post("/api/v1/keys", json={"role": "root"}, headers=admin).status_code == 422
    bearer = {"Authorization": f"Bearer {client.keys['clerk']}"}  # type: ignore[attr-defined]
    assert client.get("/api/v1/procedures", headers=bearer).status_code == 200


def test_every_read_is_audited_without_the_full_id(client: TestClient, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    clerk, admin = as_(client, "clerk"), as_(client, "admin")
    card = client.ids["card"]  # type: ignore[attr-defined]
    client.get(f"/api/v1/owners/{CCCD}/documents", params={"purpose": "hồ sơ HS-1"}, headers=clerk)
    client.get(f"/api/v1/documents/{card}", params={"purpose": "đối chiếu"}, headers=clerk)
    client.get(f"/api/v1/components/{card}/pdf", params={"purpose": "in"}, headers=clerk)
    assert client.get(f"/api/v1/owners/{CCCD}/documents", headers=clerk).status_code == 422
    events = client.get("/api/v1/audit", headers=admin).json()
    got = [(e["action"], e["target"], e["subject"], e["purpose"]) for e in events]
    clerk_id = client.keys["clerk"].split("_")[1]  # type: ignore[attr-defined]
    assert ("owner.documents", None, "079*******45", "hồ sơ HS-1") in got
    assert ("document.read", card, None, "đối chiếu") in got
    assert ("component.pdf", card, None, "in") in got
    assert all(e["actor"] == clerk_id for e in events if e["action"] != "key.create")
    by_owner = client.get("/api/v1/audit", params={"owner_id": CCCD}, headers=admin).json()
    assert [e["action"] for e in by_owner] == ["owner.documents"]
    assert client.get("/api/v1/audit", headers=clerk).status_code == 403
    assert CCCD not in caplog.text and "079*******45" in caplog.text  # URLs are logged masked


def test_openapi_documents_registry_endpoints_and_keys(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for p in ("/api/v1/lookup", "/api/v1/documents", "/api/v1/dossiers/{code}/links",
              "/api/v1/reports/reuse", "/api/v1/audit", "/api/v1/keys"):  # fmt: skip
        assert p in spec["paths"]
    assert {"ApiKey", "Bearer"} <= set(spec["components"]["securitySchemes"])
    assert "RecordOut" in spec["components"]["schemas"]


def test_access_log_lines_carry_masked_ids(caplog) -> None:
    from api import logmask

    logmask.install()
    caplog.set_level(logging.INFO)
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/1.1" %d', "127.0.0.1", "GET",
        f"/api/v1/owners/{CCCD}/documents?x=025123456", 200,
    )  # fmt: skip
    assert CCCD not in caplog.text and "025123456" not in caplog.text
    assert "079*******45" in caplog.text and "025****56" in caplog.text


def test_clerk_correction_changes_the_record_and_is_kept_for_retraining(
    client: TestClient, tmp_path: Path
) -> None:
    from classify.learning import load_corrections

    land = client.ids["land"]  # type: ignore[attr-defined]
    url = f"/api/v1/documents/{land}/corrections"
    assert client.post(url, json={}, headers=as_(client, "clerk")).status_code == 422
    assert client.post(url, json={"type": "nope"}, headers=as_(client, "clerk")).status_code == 422
    assert client.post(url, json={"type": "khac"}, headers=as_(client, "system")).status_code == 403
    r = client.post(
        url,
        json={"type": "giay_phep_xay_dung", "fields": {"so_ky_hieu": "12/GPXD"}},
        headers=as_(client, "clerk"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "giay_phep_xay_dung"
    assert body["fields"]["so_ky_hieu"] == {
        "value": "12/GPXD",
        "source": "clerk",
        "confidence": 1.0,
    }
    assert body["so_ky_hieu"] == "12/GPXD"
    (kept,) = load_corrections(tmp_path / "var" / "corrections.jsonl")
    assert kept.component_id == land and kept.type == "giay_phep_xay_dung"
    assert kept.predicted_type == "gcn_qsdd" and kept.fields == {"so_ky_hieu": "12/GPXD"}
