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
    watch: bool = True  # run the drop-folder watcher inside `sohoa serve`
    watch_poll_seconds: float = 5.0
    watch_stable_seconds: float = 2.0
    max_upload_mb: int = 512

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
