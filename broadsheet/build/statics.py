"""Copy static/ into the output, and the generated Pygments stylesheet."""

from __future__ import annotations

import shutil
from pathlib import Path

from broadsheet.errors import BroadsheetError
from broadsheet.files import write_if_changed
from broadsheet.render.markdown import pygments_css

PYGMENTS_CSS = "css/pygments.css"


def static_files(static_dir: Path) -> list[tuple[str, Path]]:
    """(output path, source) for every file below static/, hidden files excepted."""
    if not static_dir.is_dir():
        return []
    files = []
    for source in sorted(static_dir.rglob("*")):
        relative = source.relative_to(static_dir)
        if source.is_file() and not any(p.startswith(".") for p in relative.parts):
            files.append((relative.as_posix(), source))
    return files


def copy_static(static_dir: Path, out: Path, generated: set[str]) -> int:
    """Copy static/ over (only what differs); a file that would shadow a page is an error."""
    count = 0
    for relative, source in static_files(static_dir):
        if relative in generated or relative == PYGMENTS_CSS:
            raise BroadsheetError(f"would overwrite the generated page {relative}", source)
        target = out / relative
        if _same_file(source, target):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(source, target)
        except OSError as exc:
            raise BroadsheetError(
                f"cannot copy to {target}: {exc.strerror or exc}", source
            ) from exc
        count += 1
    write_if_changed(out / PYGMENTS_CSS, pygments_css())
    return count


def _same_file(source: Path, target: Path) -> bool:
    if not target.is_file() or target.stat().st_size != source.stat().st_size:
        return False
    return target.read_bytes() == source.read_bytes()
