"""Write a file only when its bytes change, whole or not at all: for posts and pages alike."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from broadsheet.errors import BroadsheetError


def write_if_changed(target: Path, text: str) -> bool:
    """Write `text` to `target` unless it already holds exactly that; True if written."""
    return write_bytes_if_changed(target, text.encode("utf-8"))


def write_bytes_if_changed(target: Path, data: bytes) -> bool:
    """Write `data` to `target` unless it already holds exactly that; True if written."""
    try:
        if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise BroadsheetError(f"cannot write: {exc.strerror or exc}", target) from exc
    return True
