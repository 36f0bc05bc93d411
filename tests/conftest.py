"""Shared fixtures: an isolated data directory and generated scans on disk."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from tests.pages import DECISION, distort, render_page, words_of
from tests.registry_helpers import open_registry
from tests.services import postgres_server_fixture  # noqa: F401 - a fixture, used by name


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own SOHOA_DATA_DIR, so nothing leaks between tests."""
    data = tmp_path / "var"
    monkeypatch.setenv("SOHOA_DATA_DIR", str(data))
    for name in ("SOHOA_DATABASE_URL", "SOHOA_STORAGE_URL", "SOHOA_INBOX_DIR"):
        monkeypatch.delenv(name, raising=False)
    return data


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request: pytest.FixtureRequest, tmp_path: Path):
    """A migrated registry on the embedded default (SQLite) and on PostgreSQL alike."""
    if request.param == "sqlite":
        return open_registry(tmp_path)
    server = request.getfixturevalue("postgres_server")
    return open_registry(tmp_path, url=server.new_database())


@pytest.fixture(scope="session")
def decision_page() -> Image.Image:
    return render_page(DECISION, dpi=200)


@pytest.fixture(scope="session")
def decision_words() -> list[str]:
    return words_of(DECISION)


def png_bytes(img: Image.Image, dpi: int = 200) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", dpi=(dpi, dpi))
    return buf.getvalue()


def jpeg_bytes(img: Image.Image, dpi: int = 200, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90, dpi=(dpi, dpi), **kw)
    return buf.getvalue()


@pytest.fixture
def scan_file(tmp_path: Path, decision_page: Image.Image):
    """Write a turned and skewed copy of the decision page; returns its path."""

    def make(name: str, *, rotation: int = 0, skew: float = 0.0, fmt: str = "png") -> Path:
        img = distort(decision_page, rotation=rotation, skew=skew)
        path = tmp_path / name
        path.write_bytes(png_bytes(img) if fmt == "png" else jpeg_bytes(img))
        return path

    return make


def word_recall(expected: list[str], text: str) -> float:
    """Share of expected words (bag of words, NFC) found in `text`."""
    from collections import Counter

    from ocr.text import normalize_vi

    want = Counter(normalize_vi(w) for w in expected)
    got = Counter(normalize_vi(text).split())
    return sum(min(n, got[w]) for w, n in want.items()) / max(1, sum(want.values()))
