"""Sources a fresh checkout wrote, known by their blobs in Git's index, so that a deploy
does not read and hash every source again (84 MB at 10,000 articles).

A clone gives every file new times, so no source's stamp is the one the last build
kept: each would have to be read to show it still holds the bytes the build cache
hashed. Git's index already tells which blob each file holds, for every file whose
stat data are still the ones Git took (see broadsheet.gitindex). So a build that reads
the index keeps, beside the build caches, which blob hashed to which hash (BLOBS:
facts about bytes, true whichever build, of whichever version, wrote them), and a
later build takes a file whose entry holds, and whose blob it knows, as having that
hash, unread.

Only a hash taken of a file at the very stamp the index's entry holds is kept for a
blob (one read while the file kept that stamp: broadsheet.stamps.file_hash, or one
this module gave); never the hash of bytes read at another moment. So the first
deploy that restores a cache still reads every source; the ones after it read only
those that changed.

The index is read only when it was written after the build cache (a checkout, a
commit, a `git add` since the last build): an author's edits between commits cost
nothing here.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import orjson

from broadsheet.gitindex import Entry, holds, read_index
from broadsheet.sealed import read_sealed, write_sealed
from broadsheet.stamps import HASHED, Stamp, file_hash

# Beside the build caches (of every output, and of every version of Broadsheet: facts
# about bytes stay true), named by the hash it keeps: {blob: hash}.
BLOBS = "git-blobs-xxh3-128.json"

Stamps = dict[str, Stamp]


class Checkout:
    """The sources the index below `root` vouches for, and the blobs whose hashes the
    cache folder `caches` keeps."""

    def __init__(self, root: Path, caches: Path) -> None:
        self.root = root
        self.prefix = f"{root}{os.sep}"
        self.path = caches / BLOBS
        self.entries: dict[str, Entry] = read_index(root)
        self.known: dict[str, str] = _read_blobs(self.path) if self.entries else {}
        # After `vouch`: the blobs of the sources it vouched for, with their hashes (to
        # be kept again), and the entries of the others (whose hashes this build takes).
        self.kept: dict[str, str] = {}
        self.pending: dict[str, Entry] = {}
        self.changed = False

    def hash_of(self, path: str, stamp: Stamp) -> str | None:
        """The hash of the file at `path` (below root) stamped `stamp`, if the index
        vouches for its bytes and their blob's hash is known; it is kept as if the file
        had been hashed at that stamp (broadsheet.stamps.HASHED)."""
        if not path.startswith(self.prefix):
            return None
        entry = self.entries.get(path[len(self.prefix) :])
        if entry is None or not holds(entry, stamp):
            return None
        found = self.known.get(entry[0])
        if found is not None:
            HASHED.put(path, stamp, found)
        return found

    def vouch(self, old: Stamps, new: Stamps) -> None:
        """Keep the hash of each source (named relative to root, stamped `new`) that
        the index vouches for and whose stamp in `old` was another (see hash_of), for
        the comparisons that follow; then let the index go, but for the entries of
        the sources whose hashes this build takes (see `save`)."""
        for name, stamp in new.items():
            entry = self.entries.get(name)
            if entry is None:
                continue
            found = self.known.get(entry[0]) if holds(entry, stamp) else None
            if found is None:
                self.pending[name] = entry
                continue
            self.kept[entry[0]] = found
            if len(stamp) == 4 and old.get(name) != stamp:  # (a racy one: see hash_of)
                HASHED.put(self.prefix + name, stamp, found)
        self.changed = len(self.kept) != len(self.known)  # (blobs no source holds now)
        self.entries, self.known = {}, {}

    def save(self, stamps: Stamps) -> None:
        """Keep the hash of each blob that one of the sources (`stamps`, as this build
        stamped them) holds: the one kept already, or one taken of the file at that
        stamp (read now if this build took none: a post it parsed, the few pushed
        since); written only if that changed what was kept. A file that cannot be
        written leaves the next build to read the sources (nothing else depends on it)."""
        blobs, changed = self.kept, self.changed
        for name, entry in self.pending.items():
            stamp = stamps.get(name)
            if stamp is None or not holds(entry, stamp):
                continue
            found = file_hash(self.prefix + name, stamp)  # (as hashed, or read now)
            if found is not None and blobs.get(entry[0]) != found:
                blobs[entry[0]] = found
                changed = True
        if changed:
            with contextlib.suppress(OSError):
                write_sealed(self.path, orjson.dumps(blobs, option=orjson.OPT_SORT_KEYS))
        self.kept, self.pending, self.changed = {}, {}, False


def checked_out_since(root: Path, cache: Path) -> bool:
    """Whether Git's index for the work tree `root` is in was written after the build
    cache `cache` (a checkout, commit or `git add` since): only then is it read."""
    from broadsheet.gitindex import git_dir

    found = git_dir(root)
    if found is None:
        return False
    try:
        return os.stat(found[1] / "index").st_mtime_ns > os.stat(cache).st_mtime_ns
    except OSError:
        return False


def _read_blobs(path: Path) -> dict[str, str]:
    payload = read_sealed(path)
    if payload is None:
        return {}
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return {}
    if type(data) is not dict or not all(type(v) is str for v in data.values()):
        return {}
    return data
