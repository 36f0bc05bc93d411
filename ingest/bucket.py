"""Unattended ingest from an S3 inbox bucket (MinIO in production).

A scanner or client PUTs a file into the inbox bucket (a presigned URL is enough); an S3
PUT is atomic, so an object that is listed is complete. Processing starts from MinIO's
bucket event notifications (webhook into the API, or a Redis list in MinIO's `access`
format), with a periodic listing as the safety net for missed events. The layout is the
drop folder's: a key `CODE/name` belongs to dossier `CODE`, a key at the root is loose; a
handed-over object moves to `done/<key>`, a refused one to `quarantine/<key>` with
`quarantine/<key>.reason.txt`. Handing over is idempotent (submission de-duplicates by
content), so an event and a listing, or two events, taking the same key are harmless.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote_plus

from minio.commonconfig import CopySource
from minio.error import S3Error

from models.document import DOSSIER_CODE
from models.errors import BadInput
from storage.s3 import MISSING, S3BlobStore

log = logging.getLogger(__name__)

DONE, QUARANTINE = "done/", "quarantine/"
REASON_SUFFIX = ".reason.txt"
TEMPORARY = re.compile(r"(^~|^\.|\.tmp$|\.part$|\.crdownload$)", re.IGNORECASE)

Submit = Callable[[bytes, str, str | None], object]  # (data, source, dossier_code)


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str


def _records(body: Any) -> Iterable[dict[str, Any]]:
    """The S3 event records in a MinIO notification, whatever the target's envelope."""
    if isinstance(body, bytes | str):
        body = json.loads(body)
    if isinstance(body, list):  # Redis/AMQP `access` format: [{"Event": [...], ...}, ...]
        for item in body:
            yield from _records(item)
    elif isinstance(body, dict):
        if "Records" in body:
            yield from body["Records"] or []
        elif "Event" in body:
            yield from body["Event"] or []
        elif "s3" in body:
            yield body


def parse_event(body: Any) -> list[ObjectRef]:
    """The created objects named by a MinIO (or AWS) event notification; keys decoded."""
    refs = []
    for rec in _records(body):
        name = str(rec.get("eventName", ""))
        if not name.removeprefix("s3:").startswith("ObjectCreated:"):
            continue
        s3 = rec.get("s3", {})
        bucket, key = s3.get("bucket", {}).get("name"), s3.get("object", {}).get("key")
        if bucket and key:
            refs.append(ObjectRef(bucket, unquote_plus(key)))
    return refs


def is_input(key: str) -> bool:
    """Whether a key is a file to ingest (not done/quarantine, not a temporary name)."""
    if key.startswith((DONE, QUARANTINE)) or key.endswith("/"):
        return False
    return not TEMPORARY.search(PurePosixPath(key).name)


def dossier_of(key: str) -> str | None:
    parts = PurePosixPath(key).parts
    if len(parts) >= 2 and DOSSIER_CODE.match(parts[0]):
        return parts[0]
    return None


class BucketInbox:
    """Hand every object of the inbox bucket to `submit(data, source, dossier_code)` once."""

    def __init__(self, store: S3BlobStore, submit: Submit) -> None:
        self.store, self.submit = store, submit
        self._lock = threading.Lock()
        self._busy: set[str] = set()

    @property
    def bucket(self) -> str:
        return self.store.bucket

    def handle(self, key: str) -> str | None:
        """Take one object; returns where it went (`done`, `quarantine`) or None if skipped."""
        if not is_input(key):
            return None
        with self._lock:
            if key in self._busy:
                return None
            self._busy.add(key)
        try:
            try:
                data = self.store.get(key)
            except KeyError:
                return None  # already taken (by an event and the listing, or another node)
            source = f"s3://{self.bucket}/{key}"
            try:
                self.submit(data, source, dossier_of(key))
            except BadInput as exc:
                self._move(key, QUARANTINE + key)
                self.store.put(QUARANTINE + key + REASON_SUFFIX, f"{exc}\n".encode())
                log.warning("quarantined %s: %s", source, exc)
                return "quarantine"
            self._move(key, DONE + key)
            return "done"
        finally:
            with self._lock:
                self._busy.discard(key)

    def handle_event(self, body: Any) -> int:
        """Handle a notification; returns how many objects were handed over."""
        taken = 0
        for ref in parse_event(body):
            if ref.bucket != self.bucket:
                log.warning("event for bucket %s ignored (inbox is %s)", ref.bucket, self.bucket)
                continue
            taken += self.handle(ref.key) is not None
        return taken

    def poll_once(self) -> int:
        """The safety net: list the bucket and take whatever events missed."""
        return sum(self.handle(k) is not None for k in list(self.store.keys()) if is_input(k))

    def run(self, stop: threading.Event, interval: float) -> None:
        """List the bucket every `interval` seconds until `stop` is set."""
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - an unreachable store must not end the watcher
                log.exception("listing of inbox bucket %s failed", self.bucket)
            stop.wait(interval)

    def _move(self, src: str, dst: str) -> None:
        """Copy then delete (S3 has no rename); a crash in between leaves a copy in `done/`
        and the original, which is taken again and de-duplicated by content."""
        client, bucket, prefix = self.store.client, self.bucket, self.store.prefix
        try:
            client.copy_object(bucket, prefix + dst, CopySource(bucket, prefix + src))
        except S3Error as exc:
            if exc.code not in MISSING:
                raise
            return
        client.remove_object(bucket, prefix + src)

    def upload(self, key: str, data: bytes) -> None:
        """Put an object into the inbox (tests and tools; scanners use presigned URLs)."""
        self.store.client.put_object(self.bucket, self.store.prefix + key, BytesIO(data), len(data))


def consume_redis_events(
    redis_url: str, list_key: str, inbox: BucketInbox, stop: threading.Event
) -> None:
    """Handle MinIO events that its Redis target (`format=access`) pushes onto `list_key`."""
    import redis

    conn = redis.Redis.from_url(redis_url)
    while not stop.is_set():
        try:
            item = conn.blpop([list_key], timeout=1)
        except redis.ConnectionError:
            log.warning("redis unavailable for bucket events; retrying")
            stop.wait(1)
            continue
        if item is None:
            continue
        try:
            inbox.handle_event(item[1])
        except Exception:  # noqa: BLE001 - the listing will take the object later
            log.exception("bucket event failed")
