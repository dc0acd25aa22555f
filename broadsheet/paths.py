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
    errors = []
    for directory, folders, files in os.walk(folder):
        for name in [*folders, *files]:
            path = Path(directory, name)
            if not path.is_symlink():
                continue
            target = path.resolve()
            if target != base and base not in target.parents:
                errors.append(
                    BroadsheetError(
                        f"is a link to {target}, outside the project; "
                        "copy the file in instead, or remove the link",
                        path,
                    )
                )
    return errors
