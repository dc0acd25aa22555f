"""Copy static/ into the output, and the generated Pygments stylesheet."""

from __future__ import annotations

from pathlib import Path

from broadsheet.errors import BroadsheetError
from broadsheet.paths import read_source, source_files
from broadsheet.publish.stage import Stage
from broadsheet.render.markdown import pygments_css

PYGMENTS_CSS = "css/pygments.css"


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
    """Copy static/ over (only what differs); a file that would shadow a page is an error.
    The Pygments stylesheet is kept in the build's `state` folder, when it has one."""
    folders = {folder for name in generated for folder in _folders(name)}
    for relative, source in static_files(static_dir):
        if relative in generated or relative == PYGMENTS_CSS:
            raise BroadsheetError(f"would overwrite the generated page {relative}", source)
        if relative in folders:  # a file and a folder cannot share a name
            page = min(name for name in generated if name.startswith(f"{relative}/"))
            raise BroadsheetError(f"is where the generated page {page} needs a folder", source)
        above = next((f for f in _folders(relative) if f in generated), None)
        if above is not None:
            raise BroadsheetError(f"needs a folder where the generated page {above} is", source)
        stage.write_bytes(relative, read_source(source))
    stage.write_text(PYGMENTS_CSS, pygments_css(state / "pygments.css" if state else None))


def _folders(name: str) -> list[str]:
    """The folders a site path is in: "a", "a/b" for "a/b/index.html"."""
    parts = name.split("/")[:-1]
    return ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
