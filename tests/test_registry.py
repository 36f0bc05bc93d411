"""The reuse registry without OCR: records, codes, duplicates, reuse rules, look-up, links,
dossier states, the report, API keys and the append-only audit trail."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from storage import audit, auth
from storage.codes import agency_of, check_pattern, issue_code
from storage.registry import components_by_owner, find_or_create_component, put_blob
from storage.report import report
from storage.reuse import (
    ReuseError,
    confirm_fields,
    dossier_states,
    link_document,
    look_up,
    open_dossier,
    set_status,
    why_not_offered,
)
from storage.tables import AuditEvent, Component
from tests.registry_helpers import _store, open_registry, register

CCCD, CMND = "079203012345", "025123456"
HOUSE = "xd.gpxd_nha_o_rieng_le"


def _verify(s, cid: str) -> Component:
    comp = s.get(Component, cid)
    set_status(s, comp, "verified", actor="clerk-1")
    return comp


def test_result_code_is_issued_once_from_the_pattern_and_unique(sessions) -> None:
    with sessions.begin() as s:
        a = register(s, "Quyết định", key="a", dossier="000.00.01.H56-231123-0001")
        b = register(s, "Quyết định khác", key="b", dossier="000.00.01.H56-231123-0002")
    with sessions() as s:
        ca, cb = s.get(Component, a), s.get(Component, b)
        year = ca.created_at.year
        assert ca.result_code == f"000.00.01.H56.KQ{year}.0000001"
        assert cb.result_code == f"000.00.01.H56.KQ{year}.0000002"
        assert ca.registry_status == cb.registry_status == "draft"
    with sessions.begin() as s:  # stable: verifying keeps the code
        assert _verify(s, a).result_code.endswith("0000001")
    with pytest.raises(ValueError):
        check_pattern("{agency}-{year}")
    assert agency_of("nonsense", "X") == "X"


def test_custom_pattern_counts_per_scope(sessions) -> None:
    from datetime import datetime

    with sessions.begin() as s:
        when = datetime(2026, 3, 1)
        codes = [
            issue_code(s, "{type}/{year}/{seq}", agency="A", doc_type=t, when=when)
            for t in ("can_cuoc", "can_cuoc", "gcn_qsdd")
        ]
    assert codes == ["can_cuoc/2026/1", "can_cuoc/2026/2", "gcn_qsdd/2026/1"]


def test_same_bytes_in_two_dossiers_make_one_record(sessions) -> None:
    with sessions.begin() as s:
        a = register(s, "Giấy chứng nhận", key="same", dossier="D-1", owners=(CCCD,))
        b = register(s, "Giấy chứng nhận", key="same", dossier="D-2", owners=(CCCD,))
    with sessions() as s:
        cb = s.get(Component, b)
        assert cb.registry_status == "duplicate" and cb.duplicate_of == a
        assert cb.result_code is None
        assert [c.id for c in components_by_owner(s, CCCD)] == [a]


def test_rescan_of_same_paper_is_offered_but_same_number_other_paper_is_kept(sessions) -> None:
    f = {"so_ky_hieu": "123/QĐ-UBND", "co_quan_cap": "UBND tỉnh Tây Ninh"}
    with sessions.begin() as s:
        first = register(s, "Quyết định", key="scan1", fields=f, phash="f0f0f0f0f0f0f0f0")
        rescan = register(s, "Quyết định", key="scan2", fields=f, phash="f0f0f0f0f0f0f0f1")
        other = register(s, "Quyết định", key="scan3", fields=f, phash="0f0f0f0f0f0f0f0f")
    with sessions() as s:
        assert s.get(Component, rescan).duplicate_of == first
        o = s.get(Component, other)
        assert o.duplicate_of is None and o.registry_status == "draft" and o.result_code
        assert first in (o.status_reason or "")  # flagged, never merged silently


def test_only_verified_valid_reusable_records_are_offered(sessions) -> None:
    with sessions.begin() as s:
        ok = register(s, "CCCD", key="id", doc_type="can_cuoc", owners=(CCCD,))
        old = register(
            s, "GP", key="gp", doc_type="giay_phep_xay_dung", owners=(CCCD,),
            fields={"hieu_luc_den": "2020-01-01"},
        )  # fmt: skip
        book = register(s, "Sổ hộ khẩu", key="hk", doc_type="ho_khau", owners=(CCCD,))
        revoked = register(s, "GCN", key="gcn", doc_type="gcn_qsdd", owners=(CCCD,))
        draft = register(s, "Đơn", key="don", doc_type="don_to_khai", owners=(CCCD,))
        for cid in (ok, old, book, revoked):
            _verify(s, cid)
        set_status(s, s.get(Component, revoked), "revoked", actor="admin", reason="court order")
    with sessions() as s:
        today = date(2026, 11, 23)
        reasons = {c: why_not_offered(s.get(Component, c), today) for c in (ok, old, book)}
        assert reasons[ok] is None and "expired" in reasons[old] and "void" in reasons[book]
        assert "revoked" in why_not_offered(s.get(Component, revoked), today)
        assert "draft" in why_not_offered(s.get(Component, draft), today)
        found = look_up(s, CCCD, HOUSE, today=today)
        assert [d.id for d in found.documents] == [ok]
        assert found.missing == ["don_to_khai", "gcn_qsdd", "ban_ve"]
        # never offered, still retrievable for audit
        assert {c.id for c in components_by_owner(s, CCCD)} >= {old, book, revoked, draft}
    with sessions.begin() as s, pytest.raises(ReuseError):
        set_status(s, s.get(Component, revoked), "verified", actor="x")


def test_old_cmnd_is_linked_to_the_12_digit_id(sessions) -> None:
    with sessions.begin() as s:
        card = register(
            s, "Căn cước", key="cc", doc_type="can_cuoc",
            fields={"ma_dinh_danh": CCCD, "so_cmnd": CMND}, owners=(CCCD,),
        )  # fmt: skip
        old_doc = register(s, "GCN cũ", key="gcn", doc_type="gcn_qsdd", owners=(CMND,))
        for cid in (card, old_doc):
            _verify(s, cid)
    with sessions() as s:
        assert {d.id for d in look_up(s, CCCD, HOUSE).documents} == {card, old_doc}
        assert {d.id for d in look_up(s, CMND, HOUSE).documents} == {card, old_doc}


def test_link_reuses_without_copy_counts_once_and_dossier_shows_states(sessions) -> None:
    with sessions.begin() as s:
        card = register(s, "Căn cước", key="cc", doc_type="can_cuoc", owners=(CCCD,))
        _verify(s, card)
        open_dossier(s, "D-9", HOUSE)
        form = register(s, "Đơn đề nghị", key="don", doc_type="don_to_khai", dossier="D-9")
        blurred = register(
            s, "x y", key="bv", doc_type="ban_ve", dossier="D-9", confidence=20.0
        )  # fmt: skip
        link, created = link_document(s, "D-9", card, actor="clerk-1")
        again, created_again = link_document(s, "D-9", card, actor="clerk-2")
        assert created and not created_again and again.id == link.id
    with sessions() as s:
        comp = s.get(Component, card)
        assert comp.reuse_count == 1 and link.linked_by == "clerk-1" and link.linked_at
        assert s.scalar(select(text("count(*)")).select_from(Component)) == 3  # no copy
        d = open_dossier(s, "D-9", None)
        states = {st.type: st.state for st in dossier_states(s, d)}
        assert states == {
            "don_to_khai": "scanned", "can_cuoc": "reused", "gcn_qsdd": "missing",
            "ban_ve": "illegible", "quyet_dinh": "missing",
        }  # fmt: skip
        assert form and blurred
    with sessions.begin() as s:
        link_document(s, "D-10", card, actor="clerk-1")
    with sessions() as s:
        assert s.get(Component, card).reuse_count == 2


def test_a_draft_or_expired_document_cannot_be_linked(sessions) -> None:
    with sessions.begin() as s:
        draft = register(s, "Căn cước", key="cc", doc_type="can_cuoc", owners=(CCCD,))
    with sessions.begin() as s, pytest.raises(ReuseError, match="draft"):
        link_document(s, "D-1", draft, actor="clerk-1")
    with sessions.begin() as s, pytest.raises(KeyError, match="unknown procedure"):
        open_dossier(s, "D-2", "no.such.procedure")


def test_clerk_corrections_become_clerk_fields(sessions) -> None:
    with sessions.begin() as s:
        cid = register(s, "QĐ", key="q", fields={"so_ky_hieu": "12/QD-UBND"})
        confirm_fields(s.get(Component, cid), {"so_ky_hieu": "12/QĐ-UBND"})
    with sessions() as s:
        comp = s.get(Component, cid)
        f = {x.name: x for x in comp.fields}["so_ky_hieu"]
        assert (f.value, f.source, f.confidence) == ("12/QĐ-UBND", "clerk", 1.0)
        assert comp.doc_number == "12/QĐ-UBND"


def test_concurrent_registrations_of_the_same_document_make_one_record(sessions) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def go(i: int) -> None:
        try:
            barrier.wait()
            with sessions.begin() as s:
                register(s, "Căn cước", key="same-bytes", doc_type="can_cuoc", dossier=f"D-{i}")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with sessions() as s:
        comps = list(s.scalars(select(Component)))
        assert len(comps) == 6
        records = [c for c in comps if c.duplicate_of is None]
        assert len(records) == 1 and records[0].result_code
        assert all(c.duplicate_of == records[0].id for c in comps if c is not records[0])


def test_concurrent_submissions_to_one_dossier_make_one_component(sessions) -> None:
    ids: list[str] = []
    barrier = threading.Barrier(5)

    def go() -> None:
        barrier.wait()
        with sessions.begin() as s:
            blob = put_blob(s, _store(s), "originals", b"bytes", "image/png")
            comp, _ = find_or_create_component(
                s, original=blob, source="x.png", dossier_code="D-1", owners=[CCCD]
            )
            ids.append(comp.id)

    threads = [threading.Thread(target=go) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 5 and len(set(ids)) == 1


def test_report_gives_digitization_and_reuse_rates(sessions) -> None:
    with sessions.begin() as s:
        card = register(
            s, "Căn cước", key="cc", doc_type="can_cuoc", dossier="000.00.01.H56-231123-0001"
        )
        _verify(s, card)
        register(s, "Căn cước", key="cc", doc_type="can_cuoc", dossier="000.00.01.H56-231123-0002")
        link_document(s, "000.00.01.H56-231123-0003", card, actor="clerk")
    with sessions() as s:
        rows = report(s, group_by=("agency", "type"))
    assert len(rows) == 1
    r = rows[0]
    assert (r.agency, r.type, r.received, r.digitized, r.reused) == (
        "000.00.01.H56", "can_cuoc", 2, 1, 1,
    )  # fmt: skip
    assert r.digitization_rate == 0.5 and r.reuse_rate == round(1 / 3, 4)


def test_api_keys_are_hashed_and_checked(sessions) -> None:
    with sessions.begin() as s:
        key, token = auth.create_key(s, "system", "tax office", ["can_cuoc"])
        secret = token.split("_", 2)[2]  # the secret itself may contain "_"
        assert token not in key.secret_sha256 and secret not in key.secret_sha256
    with sessions.begin() as s:
        assert auth.authenticate(s, token).role == "system"
        assert auth.authenticate(s, token + "x") is None
        assert auth.authenticate(s, "garbage") is None
        auth.revoke_key(s, key.id)
    with sessions() as s:
        assert auth.authenticate(s, token) is None
    with sessions.begin() as s, pytest.raises(ValueError):
        auth.create_key(s, "root")


def test_audit_trail_is_append_only_and_never_holds_a_full_id(sessions) -> None:
    with sessions.begin() as s:
        audit.record(s, actor="k1", role="clerk", action="owner.documents", subject=CCCD,
                     purpose="hồ sơ D-1")  # fmt: skip
    with sessions() as s:
        ev = s.scalars(select(AuditEvent)).one()
        assert ev.subject_masked == "079*******45" and CCCD not in (ev.subject_masked or "")
        assert [e.id for e in audit.events(s, subject=CCCD)] == [ev.id]
    for stmt in ("UPDATE audit_events SET purpose = 'x'", "DELETE FROM audit_events"):
        with sessions.begin() as s, pytest.raises(DatabaseError, match="append-only"):
            s.execute(text(stmt))


def test_reuse_path_through_the_cli(_isolated_settings: Path, capsys) -> None:
    from api.cli import main

    sessions = open_registry(_isolated_settings, "sohoa.db")  # the CLI's embedded default
    with sessions.begin() as s:
        card = register(s, "Căn cước", key="cc", doc_type="can_cuoc", owners=(CCCD,))
    assert main(["verify", card]) == 0
    assert '"verified"' in capsys.readouterr().out
    assert main(["lookup", "--owner", CCCD, "--procedure", HOUSE, "--purpose", "HS-1"]) == 0
    import json

    found = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in found["documents"]] == [card] and "gcn_qsdd" in found["missing"]
    assert main(["link", "000.00.01.H56-231123-0009", card, "--procedure", HOUSE]) == 0
    assert json.loads(capsys.readouterr().out)["created"] is True
    assert main(["report", "--json", "--by", "type"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert rows == [{"period": "", "agency": "", "type": "can_cuoc", "received": 1,
                     "digitized": 1, "reused": 1, "digitization_rate": 1.0,
                     "reuse_rate": 0.5}]  # fmt: skip
    assert main(["keys", "create", "--role", "admin", "--name", "lead"]) == 0
    token = capsys.readouterr().out.strip()
    with sessions() as s:
        assert auth.authenticate(s, token).role == "admin"
    assert main(["lookup", "--owner", "12ab", "--procedure", HOUSE, "--purpose", "x"]) == 2
    assert main(["revoke", "nope"]) == 1


def test_uncertain_type_is_flagged_for_review(tmp_path: Path) -> None:
    from api.pipeline import result_of
    from storage.registry import get_component

    sessions = open_registry(tmp_path)
    with sessions.begin() as s:
        sure = register(s, "Quyết định", key="sure")
        unsure = register(s, "Một tờ giấy", key="unsure", doc_type="khac")
        get_component(s, unsure).type_confidence = 0.3
    with sessions() as s:
        assert result_of(get_component(s, sure), "").needs_review is False
        flagged = result_of(get_component(s, unsure), "")
        assert flagged.needs_review is True and flagged.to_json()["needs_review"] is True
