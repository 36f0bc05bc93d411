"""Registering generated results straight into a registry, without OCR (fast tests)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from models.document import ComponentResult, FieldValue, PageResult, Word
from storage.blobs import FileBlobStore
from storage.db import make_engine, migrate, session_factory
from storage.registry import find_or_create_component, put_blob, save_result


def open_registry(
    tmp_path: Path, name: str = "reg.db", *, url: str | None = None
) -> sessionmaker[Session]:
    """A migrated registry: SQLite in `tmp_path` by default, or the database at `url`."""
    engine = make_engine(url or f"sqlite:///{tmp_path / name}")
    migrate(engine)
    _STORES[str(engine.url)] = FileBlobStore(tmp_path / f"objects-{name}")
    return session_factory(engine)


def register(
    session: Session,
    text: str,
    *,
    key: str,
    doc_type: str = "quyet_dinh",
    owners: tuple[str, ...] = (),
    fields: dict[str, str] | None = None,
    dossier: str | None = None,
    phash: str | None = None,
    confidence: float = 92.0,
) -> str:
    """Register a done result whose original bytes are `key`; returns the component id."""
    store = _store(session)
    original = put_blob(session, store, "originals", key.encode(), "image/png")
    comp, _ = find_or_create_component(
        session, original=original, source=f"{key}.png", dossier_code=dossier, owners=list(owners)
    )
    words = [Word(w, 0, 0, 10, 10, confidence) for w in text.split()]
    page = PageResult(index=0, rotation=0, skew=0.0, text=text, words=words)
    result = ComponentResult(
        id=comp.id,
        source=comp.source,
        type=doc_type,
        type_confidence=0.9,
        pages=[page],
        fields={k: FieldValue(v, "ocr", 0.9) for k, v in (fields or {}).items()},
        pdf="",
    )
    pdf = put_blob(session, store, "pdf", b"%PDF-" + key.encode(), "application/pdf")
    save_result(session, comp, result, pdf, phash=phash)
    return comp.id


_STORES: dict[str, FileBlobStore] = {}


def _store(session: Session) -> FileBlobStore:
    url = str(session.get_bind().url)
    if url not in _STORES:
        db = session.get_bind().url.database or ""
        _STORES[url] = FileBlobStore(Path(db).parent / "objects")
    return _STORES[url]
