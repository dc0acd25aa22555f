"""Where a build writes its files: a folder that becomes the site, or an overlay.

A cold build writes a whole new tree (`Stage(folder)`), swapped in by one rename. An
incremental build writes only what changed into a sparse folder over the live site
(`Stage(folder, base=site)`): reads fall through to the site, removals are recorded,
and nothing in the site is touched until `output_dir` commits the changes through a
journal. The dev server writes straight into its own folder (`Stage(folder)`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from broadsheet.errors import BroadsheetError
from broadsheet.files import write_bytes_if_changed


@dataclass
class Stage:
    root: Path  # where this build writes
    base: Path | None = None  # the live site beneath an overlay
    removed: set[str] = field(default_factory=set)  # site paths to delete on commit
    moved: list[str] | None = None  # after an overlay's commit: the files it moved in
    # Whether nobody reads `root` before the build commits it (a build's own folder, not
    # the dev server's live one): then a file is written in place, with no temporary
    # file renamed over it, as a half-written file is never seen.
    private: bool = False

    def current(self, relative: str) -> Path | None:
        """The file a reader of the finished site would get at `relative`, if any."""
        staged = self.root / relative
        if staged.is_file():
            return staged
        if self.base is None or relative in self.removed:
            return None
        live = self.base / relative
        return live if live.is_file() else None

    def read_bytes(self, relative: str) -> bytes | None:
        found = self.current(relative)
        if found is None:
            return None
        try:
            return found.read_bytes()
        except OSError as exc:
            raise BroadsheetError(f"cannot read: {exc.strerror or exc}", found) from exc

    def write_text(self, relative: str, text: str) -> bool:
        return self.write_bytes(relative, text.encode("utf-8"))

    def write_bytes(self, relative: str, data: bytes) -> bool:
        """Stage `data` at `relative` unless the site would hold it already; True if so."""
        target = self.root / relative
        if self.base is not None and not target.exists() and relative not in self.removed:
            live = self.base / relative
            try:
                same = live.is_file() and live.stat().st_size == len(data)
                if same and live.read_bytes() == data:
                    return False
            except OSError as exc:
                raise BroadsheetError(f"cannot read: {exc.strerror or exc}", live) from exc
        self.removed.discard(relative)
        if self.private:
            return _write_new(target, data)
        return write_bytes_if_changed(target, data)

    def remove(self, relative: str) -> None:
        try:
            (self.root / relative).unlink(missing_ok=True)
        except OSError as exc:
            where = self.root / relative
            raise BroadsheetError(f"cannot remove: {exc.strerror or exc}", where) from exc
        if self.base is not None and (self.base / relative).is_file():
            self.removed.add(relative)

    def names(self, folder: str, suffix: str) -> set[str]:
        """Names of the files directly in `folder` that end with `suffix`."""
        found: set[str] = set()
        for root in (self.root, self.base):
            if root is None:
                continue
            try:
                with os.scandir(root / folder) as entries:
                    found |= {e.name for e in entries if e.name.endswith(suffix) and e.is_file()}
            except (FileNotFoundError, NotADirectoryError):
                continue
        return {n for n in found if f"{folder}/{n}" not in self.removed}

    def staged(self) -> list[str]:
        """Every file written into the stage, as paths relative to it, sorted."""
        start = len(str(self.root)) + 1
        found = []
        for directory, _, files in os.walk(self.root):
            found += [os.path.join(directory, name)[start:] for name in files]
        return sorted(p.replace(os.sep, "/") for p in found)


def _write_new(target: Path, data: bytes) -> bool:
    """Write `data` to `target` in a private stage; True unless it holds exactly that."""
    try:
        try:
            handle = open(target, "xb")  # noqa: SIM115 (closed below)
        except FileNotFoundError:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle = open(target, "xb")  # noqa: SIM115
        except FileExistsError:  # written before in this build: compared, then replaced
            return write_bytes_if_changed(target, data)
        with handle:
            handle.write(data)
    except OSError as exc:
        raise BroadsheetError(f"cannot write: {exc.strerror or exc}", target) from exc
    return True
