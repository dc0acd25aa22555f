"""Sources a fresh checkout wrote, known by their blobs in Git's index, so that a deploy
does not read and hash every source again (84 MB at 10,000 articles).

A clone gives every file new times, so no source's stamp is the one the last build
kept: each would have to be read to show it still holds the bytes the build cache
hashed. Git's index already tells which blob each file holds, for every file whose
stat data are still the ones Git took (see broadsheet.gitindex). So a build that reads
the index keeps, beside the build caches, which blob, written as a file of which size,
hashed to what (BLOBS: facts about bytes, true whichever build, of whichever version,
wrote them), and a later build takes a file whose entry holds, and whose blob and size
it knows, as having that hash, unread.

Only a hash taken while the file had the very stamp the index's entry holds is kept
for a blob (broadsheet.stamps.HASHED, or read now at that stamp); never the one a racy
stamp carries, which may be of bytes read a moment later. Nothing is taken from the
index where Git may write one blob as other bytes of the same size (see may_filter).
So the first deploy that restores a cache still reads every source; the ones after
it read only those that changed.

The index is read only when it was written after the build cache (a checkout, a
commit, a `git add` since the last build): an author's edits between commits cost
nothing here (but that a `git status` may rewrite the index).
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import orjson

from broadsheet.gitindex import Entry, git_dir, holds, read_index
from broadsheet.sealed import read_sealed, write_sealed
from broadsheet.stamps import HASHED, UNREADABLE, Stamp, content_hash

# Beside the build caches (of every output, and of every version of Broadsheet: facts
# about bytes stay true), named by the hash it keeps: {"blob size": hash}.
BLOBS = "git-blobs-xxh3-128.json"

Stamps = dict[str, Stamp]
Hashes = dict[str, str]  # a source (relative to root) -> a hash of its bytes


class Checkout:
    """The sources the index below `root` vouches for, and the blobs whose hashes the
    cache folder `caches` keeps."""

    def __init__(self, root: Path, caches: Path) -> None:
        self.prefix = f"{root}{os.sep}"
        self.path = caches / BLOBS
        self.entries: dict[str, Entry] = read_index(root)
        if self.entries and may_filter(root, self.entries):
            self.entries = {}  # (a blob's bytes in the work tree are not the blob's alone)
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
        found = self._known(path[len(self.prefix) :], stamp)[1]
        if found is not None:
            HASHED.put(path, stamp, found)
        return found

    def _known(self, name: str, stamp: Stamp) -> tuple[Entry | None, str | None]:
        """The index's entry for the source `name` (relative to root), and the hash of
        its bytes if the entry holds for `stamp` and its blob's hash is known."""
        entry = self.entries.get(name)
        if entry is None or not holds(entry, stamp):
            return entry, None
        return entry, self.known.get(_key(entry))

    def vouch(self, old: Stamps, new: Stamps) -> Hashes:
        """The hash of each source (named relative to root, stamped `new`) that the
        index vouches for and whose stamp in `old` was another (see hash_of), for the
        comparisons that follow (BuildCache.adopt takes them in place of the files'
        bytes); then let the index go, but for the entries of the sources whose hashes
        this build takes (see `save`).

        A post's hash is given to adopt alone, which asks for every one: kept in HASHED
        as well, each was packed there and unpacked again at once (15 ms of a deploy at
        10,000 articles). Any other source's is kept there too, for the stages that
        hash a source by its path (the images' store)."""
        judged = _vouch_entries(self.entries, self.known, old, new)
        if judged is None:  # (an entry or stamp the compiled loop does not take)
            judged = vouch_entries_python(self.entries, self.known, old, new)
        vouched, self.kept, self.pending = judged
        self._remember(vouched, new)
        self.changed = len(self.kept) != len(self.known)  # (blobs no source holds now)
        self.entries, self.known = {}, {}
        return vouched

    def _remember(self, vouched: Hashes, new: Stamps) -> None:
        for name, found in vouched.items():
            if not name.endswith(".md"):
                HASHED.put(self.prefix + name, new[name], found)

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
            # Only a hash taken while the file had this very stamp, or taken now at it:
            # never the one a racy stamp carries, which may be of bytes read after the
            # stamp was taken (see stamps.racy_hash).
            path = self.prefix + name
            found = HASHED.get(path, stamp) or content_hash(path, stamp[:4])
            if found != UNREADABLE and blobs.get(_key(entry)) != found:
                blobs[_key(entry)] = found
                changed = True
        if changed:
            with contextlib.suppress(OSError):
                write_sealed(self.path, orjson.dumps(blobs, option=orjson.OPT_SORT_KEYS))
        self.kept, self.pending, self.changed = {}, {}, False


def vouch_entries_python(
    entries: dict[str, Entry], known: Hashes, old: Stamps, new: Stamps
) -> tuple[Hashes, Hashes, dict[str, Entry]]:
    """For each source stamped `new` that has an entry in `entries`: the hash `known`
    keeps for its blob, if its entry holds for that stamp, kept under the blob (`kept`)
    and, where the stamp is not racy and `old` had another for it, given for the
    source (`vouched`); else its entry (`pending`). (The compiled vouch_entries,
    broadsheet/_files.c, gives the same: a deploy's 10,000 sources in a few
    milliseconds, where this took 26.)"""
    vouched: Hashes = {}
    kept: Hashes = {}
    pending: dict[str, Entry] = {}
    for name, stamp in new.items():
        entry = entries.get(name)
        if entry is None:
            continue
        key = _key(entry)
        found = known.get(key) if holds(entry, stamp) else None
        if found is None:
            pending[name] = entry
            continue
        kept[key] = found
        if len(stamp) == 4 and old.get(name) != stamp:  # (a racy one: see hash_of)
            vouched[name] = found
    return vouched, kept, pending


try:
    from broadsheet._files import vouch_entries as _vouch_entries
except ImportError:  # (no compiler where it was installed)
    _vouch_entries = vouch_entries_python


def checked_out_since(root: Path, cache: Path) -> bool:
    """Whether Git's index for the work tree `root` is in was written after the build
    cache `cache` (a checkout, commit or `git add` since): only then is it read."""
    found = git_dir(root)
    if found is None:
        return False
    try:
        return os.stat(found[1] / "index").st_mtime_ns > os.stat(cache).st_mtime_ns
    except OSError:
        return False


def _key(entry: Entry) -> str:
    """What a fact is kept under: the blob, and the size of the file Git wrote of it.
    Other settings write a blob as other bytes (line endings; an LFS pointer, or the
    object it points to), and those are, but for a filter that keeps the size (see
    may_filter), of another size."""
    return f"{entry[0]} {entry[1]}"


# What in Git's attributes may make one blob other bytes of the same size in the work
# tree: a filter (clean and smudge commands: LFS, git-crypt), a working-tree encoding,
# `ident` (a `$Id: <40 hex> $` in the blob written with the blob's own id).
_ATTRIBUTES = (b"filter", b"working-tree-encoding", b"ident")
_SETTINGS_FILES = ("GIT_CONFIG", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM")
_ATTRIBUTES_FILE = re.compile(rb"^\s*attributesfile\s*=\s*(.+?)\s*$", re.M | re.I)
_INCLUDED = re.compile(rb"^\s*path\s*=\s*(.+?)\s*$", re.M)  # ([include] and [includeIf])


def may_filter(root: Path, entries: dict[str, Entry]) -> bool:
    """Whether the work tree `root` is in may hold a blob as other bytes than it did
    when another build saw it, of the same size: whether any of Git's attributes files
    that apply to the sources names a filter or a working-tree encoding. Those are the
    ones in `root`'s folders up to the top of the work tree, the tracked ones below
    it, the repository's, the user's (or the one the settings name instead) and the
    system's. A filter's commands in the settings alone do nothing (GitHub's runners
    have Git LFS's in /etc/gitconfig); where an attributes file names one, the index
    vouches for nothing, whichever commands the settings give, now or later. (An
    attributes file below `root` that Git does not track is not read.)"""
    found = git_dir(root)
    if found is None:
        return False
    top, gitdir = found
    common = gitdir
    with contextlib.suppress(OSError, UnicodeDecodeError):  # (a linked work tree's)
        common = gitdir / (gitdir / "commondir").read_text(encoding="utf-8").strip()
    home = Path.home()
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    settings = [common / "config", gitdir / "config.worktree", home / ".gitconfig"]
    settings += [config_home / "git" / "config", Path("/etc/gitconfig")]
    settings += [Path(os.environ[n]) for n in _SETTINGS_FILES if os.environ.get(n)]
    given = [v for n, v in os.environ.items() if n.startswith(("GIT_CONFIG_KEY", "GIT_CONFIG_PAR"))]
    if b"attributesfile" in os.fsencode(" ".join(given)).lower():
        return True  # (an attributes file given to every git: not looked for)
    named = _attributes_files(settings, top, included=8)
    attributes = [common / "info" / "attributes", Path("/etc/gitattributes")]
    attributes += named or [config_home / "git" / "attributes"]
    folder = root
    while True:
        attributes.append(folder / ".gitattributes")
        if folder == top or folder == folder.parent:
            break
        folder = folder.parent
    # Those of every folder below root that holds a source: a tracked attributes file
    # whose own entry is racy, or one Git does not track as usual, is read too.
    below = {name.rpartition(os.sep)[0] for name in entries}
    for name in list(below):
        while name:
            name = name.rpartition(os.sep)[0]
            below.add(name)
    attributes += [root / name / ".gitattributes" for name in below if name]
    for path in attributes:
        with contextlib.suppress(OSError):
            text = path.read_bytes().lower()
            if any(word in text for word in _ATTRIBUTES):
                return True
    return False


def _attributes_files(paths: list[Path], top: Path, included: int) -> list[Path]:
    """The attributes files that the settings files `paths` (and, up to `included`
    deep, those they include) name: a relative one as Git finds it, from the top of
    the work tree (and from the settings file's folder too)."""
    found: list[Path] = []
    for path in paths:
        try:
            text = path.read_bytes()
        except OSError:
            continue
        for value in _ATTRIBUTES_FILE.findall(text):
            found += [top / _path(value), path.parent / _path(value)]
        if included > 0:
            more = [path.parent / _path(m) for m in _INCLUDED.findall(text)]
            found += _attributes_files(more, top, included - 1)
    return found


def _path(value: bytes) -> Path:
    """A path as a settings file gives it ("~" for the home folder)."""
    return Path(os.fsdecode(value.strip(b'"'))).expanduser()


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
