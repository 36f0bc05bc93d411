"""Getting scans into the pipeline: the scanner drop-folder watcher."""

from ingest.dropfolder import DropFolder

__all__ = ["DropFolder"]
