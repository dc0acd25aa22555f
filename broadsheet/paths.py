"""Source folders may hold symbolic links, but none that lead outside the project."""

from __future__ import annotations

import os
from pathlib import Path

from broadsheet.errors import BroadsheetError, BroadsheetErrors


def refuse_outside_links(folders: list[Path], root: Path) -> None:
    """Error (naming each link) if any link below the folders points outside `root`.

    A link out could publish a private file (a key, a password store) as a static file,
    or pull another project's posts in without anyone noticing.
    """
    base = root.resolve()
    errors = []
    for folder in folders:
        errors += _outside_links(folder, base)
    if errors:
        raise BroadsheetErrors(errors)


def _outside_links(folder: Path, base: Path) -> list[BroadsheetError]:
    """A scandir walk: it runs on every build, and directory entries know what is a link
    without a stat of each file."""
    errors = []
    pending = [str(folder)]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            if not entry.is_symlink():
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                continue
            path = Path(entry.path)
            target = path.resolve()
            if target != base and base not in target.parents:
                errors.append(
                    BroadsheetError(
                        f"is a link to {target}, outside the project; "
                        "copy the file in instead, or remove the link",
                        path,
                    )
                )
    return sorted(errors, key=lambda error: str(error.path))
