"""Copy static/ into the output, and the generated Pygments stylesheet."""

from __future__ import annotations

from pathlib import Path

from broadsheet.errors import BroadsheetError
from broadsheet.images.strip import strip_metadata
from broadsheet.paths import read_source, source_files
from broadsheet.publish.stage import Stage
from broadsheet.render.markdown import pygments_css

PYGMENTS_CSS = "css/pygments.css"
_PHOTOS = frozenset(".jpg .jpeg .jpe .jfif .png .webp .gif".split())


def static_files(static_dir: Path) -> list[tuple[str, Path]]:
    """(output path, source) for every file below static/, hidden files excepted,
    or an error naming every file there that cannot be published (broadsheet.paths)."""
    files = []
    for name in source_files(static_dir):  # an unreadable file or a bad link is an error
        source = Path(name)
        files.append((source.relative_to(static_dir).as_posix(), source))
    return sorted(files)


def copy_static(
    static_dir: Path, stage: Stage, generated: set[str], state: Path | None = None
) -> None:
    """Copy static/ over (only what differs), its photos without their metadata; a file
    that would shadow a page is an error.
    The Pygments stylesheet is kept in the build's `state` folder, when it has one."""
    for relative, source in static_files(static_dir):
        if relative in generated or relative == PYGMENTS_CSS:
            raise BroadsheetError(f"would overwrite the generated page {relative}", source)
        data = read_source(source)
        if source.suffix.lower() in _PHOTOS:  # no GPS position leaks out of static/
            data = strip_metadata(data)
        stage.write_bytes(relative, data)
    stage.write_text(PYGMENTS_CSS, pygments_css(state / "pygments.css" if state else None))
