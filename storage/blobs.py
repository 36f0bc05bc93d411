"""Content-addressed object storage. The filesystem store is the embedded default.

Keys look like `originals/ab/cd/<sha256>`: the same bytes are stored once, and a write is
atomic (temporary file, fsync, rename), so a crash never leaves half an object behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_key(kind: str, digest: str, suffix: str = "") -> str:
    """The key of an object of `kind` (originals, pdf, ...) whose SHA-256 is `digest`."""
    return f"{kind}/{digest[:2]}/{digest[2:4]}/{digest}{suffix}"


class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def local_path(self, key: str) -> Path | None: ...


class FileBlobStore:
    """Objects as files below `root`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        p = (self.root / key).resolve()
        if not p.is_relative_to(self.root.resolve()):
            raise ValueError(f"key escapes the store: {key!r}")
        return p

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists() and path.stat().st_size == len(data):
            return  # content-addressed: already there
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise KeyError(key) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def local_path(self, key: str) -> Path | None:
        p = self._path(key)
        return p if p.is_file() else None


def open_store(url: str) -> BlobStore:
    """A store from `SOHOA_STORAGE_URL`: `file:///var/sohoa` (or a plain path), or
    `s3://bucket?endpoint=host:9000` (see storage/s3.py)."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return FileBlobStore(Path(parsed.path if parsed.scheme else url))
    if parsed.scheme == "s3":
        from storage.s3 import S3BlobStore

        return S3BlobStore.from_url(url)
    raise ValueError(f"unsupported storage URL scheme: {parsed.scheme!r}")
