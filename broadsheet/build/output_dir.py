"""Own the output folder: refuse unsafe targets, stage a new tree, swap it in whole."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from broadsheet.config import SiteConfig
from broadsheet.errors import BroadsheetError

MARKER = ".broadsheet-output"
MARKER_TEXT = "This folder is written by `broadsheet build`; it is replaced on every build.\n"


def check_output_dir(output: Path, config: SiteConfig) -> None:
    """Refuse to build into a folder that holds anything but a site we made."""
    output = output.resolve()
    sources = [config.path(name) for name in _source_dirs(config)]
    if output in (Path("/"), Path.home().resolve(), config.root) or output in config.root.parents:
        raise BroadsheetError(
            "refusing to build here: a build replaces the whole output folder, "
            "and this one holds the project",
            output,
        )
    for source in sources:
        if output == source or source in output.parents:
            raise BroadsheetError(
                f"refusing to build into the {source.name}/ folder, which holds sources", output
            )
    if output.exists():
        if not output.is_dir():
            raise BroadsheetError("the output path exists and is not a folder", output)
        if any(output.iterdir()) and not (output / MARKER).is_file():
            raise BroadsheetError(
                f"refusing to replace a non-empty folder that Broadsheet did not make "
                f"(it has no {MARKER} file); choose an empty or new output folder",
                output,
            )


def _source_dirs(config: SiteConfig) -> tuple[str, ...]:
    return (config.content_dir, config.templates_dir, config.static_dir, "raw")


@contextmanager
def staged_output(output: Path, reuse: bool = False) -> Iterator[Path]:
    """Yield a staging folder; on success it becomes `output`, on failure it goes.

    With `reuse`, the stage starts as hard links to the current output's files: a build
    that then replaces only changed files (never writing into one in place) costs little,
    and the live site is not touched until the swap.
    """
    output = output.resolve()
    stage = output.parent / f".{output.name}.building"
    old = output.parent / f".{output.name}.old"
    for leftover in (stage, old):
        _remove(leftover)
    try:
        if reuse and output.is_dir():
            _link_tree(output, stage)
        else:
            stage.mkdir(parents=True)
        (stage / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        yield stage
        if output.exists():
            os.rename(output, old)
        os.rename(stage, output)
    except BaseException:
        _remove(stage)
        if old.exists() and not output.exists():
            os.rename(old, output)
        raise
    _remove(old)


def _link_tree(source: Path, target: Path) -> None:
    for directory, folders, files in os.walk(source):
        relative = Path(directory).relative_to(source)
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in files:
            os.link(Path(directory, name), target / relative / name)
        folders.sort()


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
