"""Every setting, from `SOHOA_*` environment variables (pydantic-settings)."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Embedded default: everything below `data_dir`, SQLite, filesystem objects."""

    model_config = SettingsConfigDict(env_prefix="SOHOA_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = None  # default: sqlite:///<data_dir>/sohoa.db
    storage_url: str | None = None  # default: file://<data_dir>/objects
    inbox_dir: Path | None = None  # default: <data_dir>/inbox
    host: str = "127.0.0.1"
    port: int = 8000
    lang: str = "vie"
    page_timeout: float = Field(120.0, description="seconds before a page is kept without text")
    page_workers: int = Field(default_factory=lambda: os.cpu_count() or 1)
    # codes and archival image in a thread beside the recognition: faster pages while a core
    # is free; `sohoa worker` turns it off (one single-threaded process per core)
    page_beside: bool = True
    # a multi-page file holding several documents (blank sheets, separator codes, a sure
    # change of type between them) is cut into one component per document
    split_batches: bool = True
    watch: bool = True  # run the drop-folder watcher inside `sohoa serve`
    watch_poll_seconds: float = 5.0
    watch_stable_seconds: float = 2.0
    max_upload_mb: int = 512
    # --- reuse registry (issue 6) ---
    # mã kết quả số hóa: str.format over agency, year, month, type and seq (see storage/codes.py)
    result_code_pattern: str = "{agency}.KQ{year}.{seq:07d}"
    agency_code: str = "000.00.00.H00"  # when the dossier code does not carry the agency
    # --- distributed mode: a broker URL switches to Celery workers ---
    broker_url: str | None = None  # redis://host:6379/0 or amqp://…; unset: in-process worker
    task_soft_time_limit: float = 300.0  # seconds per task (one page, or one assembly)
    task_time_limit: float = 360.0  # seconds; the pool child is killed, the task redelivered
    worker_max_tasks_per_child: int = 50  # recycle a pool child (Tesseract/OpenCV memory)
    broker_visibility_timeout: float = 3600.0  # Redis: unacked task redelivered after this
    inbox_bucket_url: str | None = None  # s3://inbox?endpoint=…: scanners PUT files here
    bucket_poll_seconds: float = 60.0  # listing of the inbox bucket, the missed-event net
    ingest_token: str | None = None  # bearer token MinIO's webhook target sends (auth_token)
    # --- archival copy (issue 4): PDF/A-2b, signed by the digitizing official ---
    sign_pkcs12: Path | None = None  # default signing key; signing is on when a key is set
    sign_pkcs12_password: str | None = None
    sign_pkcs11_lib: str | None = None  # PKCS#11 module of a USB token (needs python-pkcs11)
    sign_pkcs11_token: str | None = None  # token label
    sign_pkcs11_key: str | None = None  # label of the key and certificate on the token
    sign_pkcs11_pin: str | None = None
    signer_name: str = ""  # shown in the signature block; default: the certificate's name
    # per clerk (the component's digitized_by): JSON {"clerk": {"pkcs12": …, "name": …}}
    signers: dict[str, dict[str, str]] = Field(default_factory=dict)
    pdf_owner_ids: bool = False  # write owners' personal ID numbers into the PDF's XMP

    @cached_property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sohoa.db').resolve()}"

    @cached_property
    def objects_url(self) -> str:
        return self.storage_url or f"file://{(self.data_dir / 'objects').resolve()}"

    @cached_property
    def inbox(self) -> Path:
        return self.inbox_dir or self.data_dir / "inbox"
