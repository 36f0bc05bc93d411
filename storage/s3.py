"""Objects in S3 (MinIO in production) through the `minio` client.

`s3://BUCKET[/PREFIX]?endpoint=HOST:PORT&secure=false&region=R` with credentials in the
URL's user info (`s3://KEY:SECRET@BUCKET`) or in `AWS_ACCESS_KEY_ID` /
`AWS_SECRET_ACCESS_KEY` (MinIO: `MINIO_ROOT_USER` / `MINIO_ROOT_PASSWORD`). Keys are the
same content-addressed keys as the filesystem store; a key already present with the same
size is not uploaded again. Objects bigger than `PART_SIZE` go up as a multipart upload.
Connection faults are retried a few times with backoff inside the client; a longer outage
surfaces as `TransientStorageError` for the caller (the Celery task) to retry later.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import urllib3
from minio import Minio
from minio.error import S3Error, ServerError

PART_SIZE = 16 * 1024 * 1024  # multipart above this (S3 minimum part size is 5 MiB)
MISSING = frozenset({"NoSuchKey", "NoSuchObject", "NotFound", "NoSuchBucket"})


class TransientStorageError(ConnectionError):
    """The object store could not be reached or answered 5xx; worth retrying later."""


def _http_client(timeout: float) -> urllib3.PoolManager:
    retry = urllib3.Retry(
        total=4, backoff_factor=0.25, status_forcelist=[500, 502, 503, 504], allowed_methods=None
    )
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=timeout, read=max(timeout, 60.0)),
        retries=retry,
        maxsize=10,
    )


def client_from_url(url: str, *, timeout: float = 5.0) -> tuple[Minio, str, str]:
    """A client, the bucket and the key prefix named by an `s3://` URL."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.hostname:
        raise ValueError(f"not an s3:// URL with a bucket: {url!r}")
    query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    endpoint = query.get("endpoint", "s3.amazonaws.com")
    secure = query.get("secure", "false" if "endpoint" in query else "true").lower() in (
        "1",
        "true",
        "yes",
    )
    access = unquote(parsed.username or "") or os.environ.get(
        "AWS_ACCESS_KEY_ID", os.environ.get("MINIO_ROOT_USER", "")
    )
    secret = unquote(parsed.password or "") or os.environ.get(
        "AWS_SECRET_ACCESS_KEY", os.environ.get("MINIO_ROOT_PASSWORD", "")
    )
    client = Minio(
        endpoint,
        access_key=access or None,
        secret_key=secret or None,
        secure=secure,
        region=query.get("region"),
        http_client=_http_client(timeout),
    )
    # The bucket is the URL's host part as written (urlparse lower-cases `hostname`).
    bucket = parsed.netloc.rsplit("@", 1)[-1]
    return client, bucket, parsed.path.strip("/")


def _transient(exc: Exception) -> bool:
    if isinstance(exc, ServerError):
        return True
    if isinstance(exc, S3Error):
        return exc.code in ("SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout")
    return isinstance(exc, urllib3.exceptions.HTTPError | OSError)


class S3BlobStore:
    """A `BlobStore` over one bucket (and an optional key prefix)."""

    def __init__(self, client: Minio, bucket: str, prefix: str = "", *, create: bool = True):
        self.client, self.bucket = client, bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        if create:
            self._call(self._ensure_bucket)

    @classmethod
    def from_url(cls, url: str) -> S3BlobStore:
        client, bucket, prefix = client_from_url(url)
        return cls(client, bucket, prefix)

    def _ensure_bucket(self) -> None:
        if not self.client.bucket_exists(self.bucket):
            try:
                self.client.make_bucket(self.bucket)
            except S3Error as exc:  # created concurrently by another process
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

    def _call(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return fn(*args, **kwargs)
        except (S3Error, ServerError, urllib3.exceptions.HTTPError, OSError) as exc:
            if _transient(exc):
                raise TransientStorageError(f"object store unavailable: {exc}") from exc
            raise

    def _stat_size(self, key: str) -> int | None:
        try:
            return self._call(self.client.stat_object, self.bucket, self.prefix + key).size
        except S3Error as exc:
            if exc.code in MISSING:
                return None
            raise

    def put(self, key: str, data: bytes) -> None:
        if self._stat_size(key) == len(data):
            return  # content-addressed: already there
        self._call(
            self.client.put_object,
            self.bucket,
            self.prefix + key,
            io.BytesIO(data),
            len(data),
            part_size=PART_SIZE,
        )

    def put_file(self, key: str, path: Path) -> None:
        """Upload a (big) file without reading it into memory; multipart above PART_SIZE."""
        if self._stat_size(key) == Path(path).stat().st_size:
            return
        self._call(
            self.client.fput_object, self.bucket, self.prefix + key, str(path), part_size=PART_SIZE
        )

    def get(self, key: str) -> bytes:
        try:
            resp = self._call(self.client.get_object, self.bucket, self.prefix + key)
        except S3Error as exc:
            if exc.code in MISSING:
                raise KeyError(key) from exc
            raise
        try:
            return resp.read()
        finally:
            resp.close()
            resp.release_conn()

    def exists(self, key: str) -> bool:
        return self._stat_size(key) is not None

    def local_path(self, key: str) -> Path | None:
        return None

    def delete(self, key: str) -> None:
        self._call(self.client.remove_object, self.bucket, self.prefix + key)

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key below `prefix` (without the store's own prefix)."""
        objects = self._call(
            self.client.list_objects, self.bucket, prefix=self.prefix + prefix, recursive=True
        )
        for obj in objects:
            yield obj.object_name[len(self.prefix) :]

    def presigned_put(self, key: str, expires: timedelta = timedelta(hours=1)) -> str:
        """A URL a scanner or client can PUT the object's bytes to directly
        (send `Content-Type: application/octet-stream`)."""
        return self.client.presigned_put_object(self.bucket, self.prefix + key, expires)
