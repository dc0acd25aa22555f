"""The persistent build cache: plain JSON, checked before it is trusted, never pickled.

It records what the last build read (the stamp of every source file: see
broadsheet.stamps), how it was asked to build (options), the signature of every page it
wrote, and what the output folder held afterwards. A build whose sources, options and
output all still match does nothing; otherwise the signatures say which pages to render
again. It also keeps a hash of the bytes of every source and output file: a file whose
stamp no longer matches (a fresh clone, or a site restored from a CI cache, gives every
file a new modification time and inode) is unchanged if it still hashes the same.
The file is sealed (a hash of its bytes heads it: broadsheet.sealed); a cache
that is missing, damaged, malformed, from another version, or describes an output that
has changed since, is ignored, and the build starts cold.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from stat import S_ISDIR
from typing import Any, Generic, TypeVar

import orjson

import broadsheet.stamps as stamp_rules
from broadsheet.codeversion import code_version
from broadsheet.config import SiteConfig
from broadsheet.errors import BroadsheetError, BroadsheetErrors
from broadsheet.paths import scan_source
from broadsheet.sealed import clear, read_file, read_sealed, write_sealed, write_sealed_parts
from broadsheet.stamps import (
    Stamp,
    by_path,
    content_hash,
    file_hash,
    is_racy,
    is_restored,
    racy_after,
    racy_hash,
    stamp_of,
    unchanged,
    well_formed_all,
)
from broadsheet.stamps import settled as settled_stamp
from broadsheet.workers import HEADER, fork, read_exactly, write_framed

try:
    from broadsheet import _files
except ImportError:  # built without a C compiler: the Python twins below do it all
    _files = None  # type: ignore[assignment]

FORMAT = 6  # 3: the hashes of sources and output files; 4: the rest apart; 5: XXH3 hashes;
# 6: the rest's signatures and hashes in the order of the head's names (see load_rest)
# How the stored templates' keys are made: 2 says whether a template shows a listing's
# posts, 3 also whether it shows how many, 4 also whether it shows listing cards (see
# broadsheet.publish.signatures); keys made otherwise are not taken.
SIGNED_KEYS = 4
CACHE_DIR = ".broadsheet-cache"

Stamps = dict[str, Stamp]  # relative path -> its stamp
Hashes = dict[str, str]  # relative path -> a hash of the file's bytes (stamps.content_hash)
# Every folder of the output, relative to it ("" is the output itself) -> [mtime_ns,
# ctime_ns, inode], or [] when it changed too lately for its times to be trusted.
Folders = dict[str, list[int]]


@dataclass(frozen=True)
class SignedState:
    """What one build's page signatures were taken from: enough for the next build to
    tell which of them still hold without signing every page again."""

    site: str  # a hash of the site-wide key
    shape: str  # a hash of every shown post's place and metadata, in reading order
    digests: dict[str, str]  # each shown post's url_path -> its file's digest
    templates: dict[str, str]  # each template pages use -> a hash of it and its includes


@dataclass
class Rest:
    """What of the cache only a build that changes something needs: kept in a file of
    its own (see rest_path), read when first asked for."""

    pages: dict[str, str] = field(default_factory=dict)  # output path -> signature
    signed: SignedState | None = None  # what `pages` were taken from
    input_hashes: Hashes = field(default_factory=dict)
    output_hashes: Hashes = field(default_factory=dict)
    whole: bool = True  # False: the head's rest was missing, damaged or another's


T = TypeVar("T")


class _InRest(Generic[T]):
    """A field of the cache's Rest, read and set through it: the rest is read from its
    file when the field is first asked for (see BuildCache)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, cache: BuildCache, owner: type | None = None) -> T:
        value: T = getattr(cache.rest(), self.name)
        return value

    def __set__(self, cache: BuildCache, value: T) -> None:
        setattr(cache.rest(), self.name, value)


class BuildCache:
    """What the last build read, how it was asked to build, and what it wrote.

    The pages' signatures, what they were signed from, and the files' hashes (the
    `Rest`: two thirds of the bytes at 10,000 articles) are read from their own file
    only when first asked for: a build that finds nothing to do never reads them, and
    the processes that check the output read the files' hashes only if a file's stamp
    changed. The cache names the rest by its digest: a rest that is missing, damaged or
    another build's reads as empty and not `whole` (no file's hash known), the cache is
    not trusted for a rebuild (the site is built whole again), and it is never written
    back as if it were the cache's own.
    """

    def __init__(
        self,
        inputs: Stamps | None = None,
        options: dict[str, Any] | None = None,
        pages: dict[str, str] | None = None,
        output: Stamps | None = None,
        valid_until: str | None = None,  # the first scheduled post's date: rebuild then
        articles: int = 0,
        signed: SignedState | None = None,
        input_hashes: Hashes | None = None,
        output_hashes: Hashes | None = None,
        page_count: int = 0,  # (of `pages`, the bundles' files left out)
    ):
        self.inputs = inputs if inputs is not None else {}
        self.options = options if options is not None else {}
        self.output = output if output is not None else {}
        self.valid_until = valid_until
        self.articles = articles
        self.page_count = page_count
        self._rest: Rest | None = Rest(pages or {}, signed, input_hashes or {}, output_hashes or {})
        self._kept: tuple[Path, str] | None = None  # the rest's file and digest, unread
        # The names of the output's files and of the sources, in the order of the head
        # the kept rest was written with: its signatures and hashes are in that order.
        self._names: tuple[list[str], list[str]] = ([], [])
        # The sources whose stamps changed since, but whose bytes hash as recorded: their
        # hashes (see `adopt`).
        self.same: Hashes = {}

    @classmethod
    def _unread(cls, rest: Path, digest: str, **head: Any) -> BuildCache:
        cache = cls(**head)
        cache._rest, cache._kept = None, (rest, digest)
        cache._names = (list(cache.output), list(cache.inputs))
        return cache

    def rest(self) -> Rest:
        """The rest, read if it was not."""
        if self._rest is None:
            assert self._kept is not None
            self._rest = load_rest(*self._kept, *self._names)
        return self._rest

    def names_kept(self) -> bool:
        """Whether the head names the output's files and the sources as the one the kept
        rest was written with did, in the same order (see load_rest)."""
        return self._names == (list(self.output), list(self.inputs))

    pages = _InRest[dict[str, str]]()
    signed = _InRest[SignedState | None]()
    input_hashes = _InRest[Hashes]()
    output_hashes = _InRest[Hashes]()

    def is_current(self, changed: set[str], options: dict[str, Any], now: datetime) -> bool:
        """Whether the sources are those this cache was made from (no source `changed`,
        as `adopt` found them), its options these, and no scheduled post has fallen due
        since."""
        if options != self.options or changed:
            return False
        return self.valid_until is None or now < datetime.fromisoformat(self.valid_until)

    def adopt(self, inputs: Stamps, root: Path, vouched: Hashes | None = None) -> set[str]:
        """The sources added, removed or changed since (`inputs`: stamped now, below
        `root`). Each other source whose stamp changed, but whose bytes hash as recorded,
        takes its new stamp in `self.inputs` (see changed_names), and its hash is put in
        `same`: every later comparison finds it unchanged at once, and a post parsed
        from bytes of that hash is known to be the file's without a look at it (a fresh
        clone gives every source a new stamp; each was judged again, by its hash, by
        the cache, by the posts' cache and by the plan: 40 ms of a deploy at 10,000).
        `vouched` gives the hashes of sources known without reading them (Git's index:
        see broadsheet.publish.checkout), at their stamps in `inputs`."""
        if inputs == self.inputs:
            return set()
        hashes = self.input_hashes
        return changed_names(
            self.inputs, inputs, root, hashes, adopt=True, hashed=self.same, vouched=vouched
        )


def share_stamps(stamps: Stamps, kept: Stamps) -> None:
    """Make each stamp of `stamps` that equals the one `kept` has for its file that very
    list (in place). The last build's stamps of the sources and this one's, held side
    by side through a rebuild, are equal but for the files edited since: two copies
    were 18 MB of an edit's peak at 100,000 articles. (No stamp of a source is changed
    in place: see broadsheet.stamps.)"""
    known = kept.get
    for name, stamp in stamps.items():
        old = known(name)
        if old is not None and old == stamp:
            stamps[name] = old


def same_stamps(
    old: Stamps,
    new: Stamps,
    root: Path,
    hashes: Hashes | None = None,
    restored: bool = False,
    same_names: bool = False,
) -> bool:
    """Whether every file stamped `old` (named relative to `root`) is unchanged in `new`,
    and no file was added: one comparison of the two mappings when no stamp holds a hash.
    (`hashes`, `restored` and `same_names`: see changed_names.)"""
    if old == new:
        return True
    if not same_names and old.keys() != new.keys():
        return False
    first_changed = changed_names(
        old, new, root, hashes, restored=restored, first=True, same_names=same_names
    )
    return not first_changed


def changed_names(
    old: Stamps,
    new: Stamps,
    root: Path,
    hashes: Hashes | None = None,
    *,
    adopt: bool = False,
    restored: bool = False,
    hashed: Hashes | None = None,
    vouched: Hashes | None = None,
    first: bool = False,
    same_names: bool = False,
) -> set[str]:
    """The files added, removed or changed between the stamps `old` and `new`; a file
    whose stamp changed but whose bytes still hash as recorded in `hashes` is unchanged.

    With `adopt`, such a file's stamp in `old` becomes its stamp in `new` (that very
    list), as `git status` refreshes its index: its bytes are the ones recorded, which
    is all the old stamp stood for. A fresh clone gives every file a new stamp, and the
    last build's were held beside this one's to the end: 20 MB of a deploy's peak at
    100,000 articles.

    With `restored` (the output's files, which only a build writes), a file put back
    with its times is unchanged too, unread (see is_restored). The files whose stamps
    changed but whose bytes hash as recorded are put in `hashed`, if given, with that
    hash. A file's hash in `vouched`, if given, is taken for that of its bytes at its
    stamp in `new`, unread.

    With `first`, only whether any did: it stops at the first found (not to be asked
    with `adopt` or `hashed`, which want every file). A site restored from a CI cache
    gives all 30,000 output files new stamps, and the output check, which asks first
    whether their stamps alone hold, judged every one before it said no.

    With `same_names`, the caller knows that `old` and `new` name the same files (the
    output check: 30,000 names compared twice took 9 ms of a deploy's)."""
    prefix = f"{root}{os.sep}"
    names = set() if same_names else old.keys() ^ new.keys()
    if first and names:
        return names
    for name, stamp in old.items():
        now = new.get(name)
        if now is not None and now != stamp and not unchanged(stamp, now, prefix + name):
            if not (restored and is_restored(stamp, now)):
                recorded = hashes.get(name) if hashes is not None and now[0] == stamp[0] else None
                found = vouched.get(name) if vouched is not None and recorded else None
                if recorded is None or (found or file_hash(prefix + name, now)) != recorded:
                    names.add(name)
                    if first:
                        return names
                    continue
                if hashed is not None:
                    hashed[name] = recorded
            if adopt:
                old[name] = now  # (a value replaced: the mapping keeps its size)
    return names


def hashes_of(
    stamps: Stamps,
    root: Path,
    known: Hashes,
    verified: Stamps | None = None,
    read: Hashes | None = None,
) -> Hashes:
    """The hash of every file in `stamps` (named relative to `root`): from `known` (what
    the last build recorded) when the file's stamp is the one `verified` holds for it (the
    last build's stamps) or this process hashed it already; from `read` (the hashes of
    the bytes this build read and built from) unless its stamp holds one; read otherwise.
    A file that changes meanwhile gets none, and is taken as changed by the next build;
    one hashed from `read` has the hash of the bytes the site was built from, which no
    later edit matches either."""
    prefix = f"{root}{os.sep}"
    found: Hashes = {}
    for name, stamp in stamps.items():
        recorded = known.get(name)
        if recorded is not None and verified is not None and verified.get(name) == stamp:
            found[name] = recorded
            continue
        recorded = read.get(name) if read is not None and len(stamp) == 4 else None
        if recorded is not None:
            found[name] = recorded
            continue
        taken = file_hash(prefix + name, stamp)
        if taken is not None:
            found[name] = taken
    return found


def settled(stamps: Stamps, racy: int) -> Stamps | None:
    """`stamps` (just verified) without the hashes of files no longer racy, or None if
    none was dropped."""
    found = {name: settled_stamp(stamp, racy) for name, stamp in stamps.items() if len(stamp) > 4}
    kept = {name: stamp for name, stamp in found.items() if stamp is not stamps[name]}
    return {**stamps, **kept} if kept else None


def stamp_folders(output: Path, racy: int, folders: Iterable[str] | None = None) -> Folders:
    """The stamps of the output's folders (of `folders` among them, those that still
    are; of every one, found by a walk of the folders alone, when None). A folder whose
    times are not older than `racy` gets [] (its entries are listed when checked).

    A folder's modification and change times move whenever an entry is added to it,
    removed or renamed (and nothing can set its change time back), so while no folder's
    stamp changed the output holds the same names, and checking it needs only the
    stamps of the files it should hold: no folder is read (Git's untracked cache)."""
    root = str(output)
    if folders is None:
        folders = _folders_below(root)
    found: Folders = {}
    for folder in folders:
        try:
            stat = os.lstat(f"{root}{os.sep}{folder}" if folder else root)
        except OSError:
            continue
        if S_ISDIR(stat.st_mode):
            stamp = _folder_stamp(stat)
            found[folder] = [] if _folder_is_racy(stamp, racy) else stamp
    return found


def _folder_stamp(stat: os.stat_result) -> list[int]:
    return [stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def _folder_is_racy(stamp: list[int], racy: int) -> bool:
    """Whether the folder `stamp` stamps changed at or after the moment `racy`: then
    an entry added in the same tick of the clock could leave its times as they are."""
    return max(stamp[0], stamp[1]) >= racy


def _as_stamped(prefix: str, names: list[str], stamps: Stamps) -> bool:
    """Whether each file `prefix + name` still has the stamp `stamps` holds for it,
    without hash (what `_stamp_files` would find, compared as it is taken: nothing is
    made for the 30,000 files at 10,000 articles, and it stops at the first change).
    Compiled where it could be built (broadsheet/_files.c: a third of the time)."""
    if _files is not None:
        return _files.as_stamped(prefix, names, stamps)
    lstat = os.lstat
    for name in names:
        stamp = stamps[name]
        try:
            stat = lstat(prefix + name)
        except (OSError, ValueError):  # (ValueError: a NUL in a name a damaged cache gave)
            return False
        mtime = stat.st_mtime_ns
        if stamp != [stat.st_size, mtime, stat.st_ctime_ns - mtime, stat.st_ino]:
            return False
    return True


def _folders_held(root: str, folders: Folders) -> list[str] | None:
    """Whether each of `folders` (named below `root`, "" for itself) still has its
    stamp: those stamped [] (too recent to go by: their entries are to be listed) if
    so, else None. Compiled where it could be built (broadsheet/_files.c)."""
    if _files is not None:
        return _files.folders_held(root, folders)
    prefix = f"{root}{os.sep}"
    listed: list[str] = []
    for folder, stamp in folders.items():
        if not stamp:  # changed too lately to tell by its times: its entries are listed
            listed.append(folder)
            continue
        try:
            stat = os.lstat(prefix + folder if folder else root)
        except (OSError, ValueError):  # (ValueError: a NUL in a name a damaged cache gave)
            return None
        if _folder_stamp(stat) != stamp:
            return None
    return listed


def _stamp_files(prefix: str, names: Iterable[str]) -> Stamps | None:
    """The stamps of the files `prefix + name` (without hashes: for a comparison), or
    None if one cannot be stamped. Inline: 30,000 files at 10,000 articles."""
    found: Stamps = {}
    for name in names:
        try:
            stat = os.lstat(prefix + name)
        except (OSError, ValueError):  # (ValueError: a NUL in a name a damaged cache gave)
            return None
        mtime = stat.st_mtime_ns
        found[name] = [stat.st_size, mtime, stat.st_ctime_ns - mtime, stat.st_ino]
    return found


def restamp_folders(output: Path, known: Folders, names: Iterable[str], racy: int) -> Folders:
    """`known` with the folders that hold (or held) the files `names` stamped again, and
    those above them: the folders a build that wrote or removed those files changed.
    A folder gone is forgotten with every folder below it."""
    touched = folders_of(names)
    fresh = stamp_folders(output, racy, touched)
    gone = touched - fresh.keys()
    if "" in gone:
        return {}
    below = tuple(f"{folder}{os.sep}" for folder in gone)
    folders = {**known, **fresh}
    if gone:
        folders = {f: s for f, s in folders.items() if f not in gone and not f.startswith(below)}
    return folders


def folders_of(names: Iterable[str]) -> set[str]:
    """The folders that hold the files `names` (relative paths), and those above them,
    "" (the output itself) included: a folder below no file is not among them."""
    folders = {""}
    for name in names:
        folder = name.rpartition(os.sep)[0]
        while folder not in folders:
            folders.add(folder)
            folder = folder.rpartition(os.sep)[0]
    return folders


def _folders_below(root: str) -> list[str]:
    """Every folder below `root` (and "", itself), relative to it; no file is stamped."""
    start = len(root) + 1
    return ["", *(e.path[start:] for e in _entries(root) if e.is_dir(follow_symlinks=False))]


def _entries(root: str) -> Iterator[os.DirEntry[str]]:
    """Every entry below `root`, folders too (links are not followed); a folder that
    cannot be read is passed over."""
    pending = [root]
    while pending:
        try:
            entries = os.scandir(pending.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                yield entry


def folders_path(where: Path) -> Path:
    """Where the output's folders' stamps are kept, beside the build cache at `where`: a
    file of their own, read only by the process that checks the output, and written
    once the build cache is saved. Older than the cache (a build stopped between the
    two), it can only fail to hold: a folder made since changed its parent's times."""
    return where.with_name(where.name.replace("build-", "folders-", 1))


def load_folders(path: Path) -> Folders:
    """The folders' stamps kept at `path`, or none if absent, unreadable or damaged."""
    payload = read_sealed(path)
    if payload is None:
        return {}
    try:
        return _folders(orjson.loads(payload))
    except orjson.JSONDecodeError:
        return {}


def save_folders(path: Path, folders: Folders) -> None:
    write_sealed(path, orjson.dumps(folders))


def cache_path(config: SiteConfig, output: Path) -> Path:
    key = hashlib.blake2b(str(output).encode(), digest_size=8).hexdigest()
    return config.root / CACHE_DIR / f"build-{key}.json"


def stamp_tree(
    root: Path,
    relative_to: Path | None = None,
    racy: int | None = None,
    folders: list[str] | None = None,
) -> Stamps:
    """The stamp of every file below `root` (or of `root` itself); hashed when it changed
    at or after `racy` (see broadsheet.stamps). Every folder met is added to `folders`
    (relative, "" for `root`), if given.

    Plain strings and os.scandir: this runs over every source and output file on every
    build, so it must cost little even for tens of thousands of files.
    """
    start = len(str(relative_to or root)) + 1
    if root.is_file():
        name = str(root)[start:] if relative_to else root.name
        return {name: stamp_of(str(root), root.stat(), racy)}
    if folders is not None:
        folders.append("")
    return by_path(_walk(str(root), start, racy, folders))


def _walk(
    folder: str, start: int, racy: int | None = None, folders: list[str] | None = None
) -> Stamps:
    """The stamps of the files below `folder`, named from character `start` on, in no
    particular order; the folders below it added to `folders`, if given. Compiled
    where it could be built (broadsheet/_files.c's walk: a deploy's check of a restored
    site walks 30,000 files in 17,000 folders, in Python twice as long as the rest of
    the check); the files that changed at or after `racy` stamped again here."""
    if _files is not None:
        return _walked(folder, start, racy, folders)
    return _walk_python(folder, start, racy, folders)


def _walked(folder: str, start: int, racy: int | None, folders: list[str] | None) -> Stamps:
    """_walk, by the compiled walk."""
    found, met = _files.walk(os.fsencode(folder))
    above = folder[start:] + os.sep if start <= len(folder) else ""
    if above:  # (named from higher up than `folder`: stamp_tree's relative_to)
        found = {above + name: stamp for name, stamp in found.items()}
        met = [above + name for name in met]
    if folders is not None:
        folders += met
    if racy is not None:  # (hashed, as stamp_of stamps them)
        prefix = (folder + os.sep)[:start]
        for name, stamp in found.items():
            if max(stamp[1], stamp[1] + stamp[2]) >= racy:
                stamp.append(content_hash(prefix + name))
    return found


def _walk_python(
    folder: str, start: int, racy: int | None = None, folders: list[str] | None = None
) -> Stamps:
    """_walk, in Python."""
    stamps: Stamps = {}
    for entry in _entries(folder):
        if entry.is_dir(follow_symlinks=False):
            if folders is not None:
                folders.append(entry.path[start:])
            continue
        try:
            stat = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        mtime = stat.st_mtime_ns  # (stamp_of, inline: 30,000 files at 10,000 posts)
        if racy is None or max(mtime, stat.st_ctime_ns) < racy:
            stamp = [stat.st_size, mtime, stat.st_ctime_ns - mtime, stat.st_ino]
        else:
            stamp = stamp_of(entry.path, stat, racy)
        stamps[entry.path[start:]] = stamp
    return stamps


def source_stamps(
    config: SiteConfig,
    racy: int | None = None,
    known: Callable[[str, Stamp], str | None] | None = None,
) -> Stamps:
    """The stamps of every source file, named relative to the project, hashed if changed
    at or after `racy` (see broadsheet.stamps; by the hash `known` gives, if any): or an
    error naming every source that cannot be read, is not a plain file, or is a link a
    build must not follow (see broadsheet.paths)."""
    start = len(str(config.root)) + 1
    stamps: Stamps = {}
    errors: list[BroadsheetError] = []
    for name in (config.content_dir, config.templates_dir, config.static_dir):
        files, problems = scan_source(config.path(name), racy, known)
        errors += problems
        stamps.update((path[start:], stamp) for path, stamp in files.items())
    if errors:
        raise BroadsheetErrors(errors)
    settings = config.path("pyproject.toml")
    if settings.is_file():  # (stamped as the walk stamps a file: see scan_source)
        stamp = stamp_of(str(settings), settings.stat(), None)
        if racy is not None and is_racy(stamp, racy):
            stamp.append(racy_hash(str(settings), stamp, known))
        stamps[str(settings)[start:]] = stamp
    elif settings.exists():
        stamps.update(stamp_tree(settings, config.root, racy))
    return by_path(stamps)


def _json_parts(data: dict[str, Any]) -> Iterator[bytes]:
    """orjson.dumps(data), one entry at a time: the build cache at 10,000 articles is 9 MB
    of JSON, whose largest entry (the output's stamps) is a third of it."""
    yield b"{"
    for number, (key, value) in enumerate(data.items()):
        yield (b"," if number else b"") + orjson.dumps(key) + b":"
        yield orjson.dumps(value)
    yield b"}"


def load_cache(path: Path) -> BuildCache | None:
    """The cache at `path`, or None when it is absent, unreadable, damaged or malformed.
    It is trusted only once an `OutputCheck` has found the output as it describes. Its
    rest is read when first asked for (see BuildCache)."""
    payload = read_sealed(path)
    if payload is None:
        return None
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not _well_formed(data) or data["version"] != code_version(path.parent):
        return None  # (another Broadsheet's: its code may make other pages of a source)
    return BuildCache._unread(
        rest_path(path),
        data["rest"],
        inputs=data["inputs"],
        options=data["options"],
        output=data["output"],
        valid_until=data["valid_until"],
        articles=data["articles"],
        page_count=data["page_count"],
    )


def rest_path(where: Path) -> Path:
    """Where the rest of the build cache at `where` is kept (see BuildCache)."""
    return where.with_name(where.name.replace("build-", "rest-", 1))


def load_rest(
    path: Path, digest: str, outputs: Sequence[str] = (), sources: Sequence[str] = ()
) -> Rest:
    """The rest kept at `path` if it is the one with `digest`; else an empty one.

    Its pages' signatures and its files' hashes are lists in the order of the names of
    the head it was written with (`outputs`: the output's files; `sources`), "" where a
    file has none, and a mapping beside each for a name the head does not hold. So the
    keys of the mappings made from them are the head's very strings, and no name is
    parsed again: two copies of each were a twelfth of an edit's peak at 100,000
    articles (60 MB), and parsing them and keying them as the head's took 40 ms of an
    edit's second at 10,000."""
    payload = read_sealed(path, digest)
    try:
        data = orjson.loads(payload) if payload is not None else None
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        return Rest(whole=False)
    found = []
    for key, names in (("pages", outputs), ("output_hashes", outputs), ("input_hashes", sources)):
        column, extra = data.get(key), data.get(f"{key}_extra")
        if type(column) is not list or len(column) != len(names) or type(extra) is not dict:
            return Rest(whole=False)
        if not all(type(v) is str for v in (*column, *extra.values())):
            return Rest(whole=False)
        mapping = {name: value for name, value in zip(names, column, strict=True) if value}
        mapping.update(extra)
        found.append(mapping)
    pages, output_hashes, input_hashes = found
    return Rest(pages, _signed(data.get("signed")), input_hashes, output_hashes)


def _columns(key: str, mapping: dict[str, str], names: dict[str, Any]) -> dict[str, Any]:
    """`mapping` as load_rest reads it back: a list in the order of `names`, and what of
    it `names` does not hold."""
    column = [mapping.get(name, "") for name in names]
    extra = {name: value for name, value in mapping.items() if name not in names}
    return {key: column, f"{key}_extra": extra}


# How the check of a share of the output ended (the exit status of its process): its
# files unchanged; not; unchanged by their hashes only; unchanged, and some folders were
# too recent to go by their stamps. WALKED is added when every folder was read.
HOLDS, FAILS, RESTAMP, RECENT = range(4)
WALKED = 4
SHARES = 2  # processes that check the output at once, each a share of its files
NICER = 10  # how much nicer than the build the check's processes are (see start)
FIRST_SHARE = 0.25  # the first's share of the files (it stamps every folder too)


class OutputCheck:
    """Whether the output folder still holds exactly the files a cache recorded: if not
    (a page edited or deleted by hand, or the folder gone), the cache is not trusted.

    Stamping every output file takes a fifth of a second at 10,000 articles (29,875
    files in 17,457 folders), and a build needs the answer only once it has stamped the
    sources (to do nothing), or read and planned (to rebuild what changed). So `start()`
    forks SHARES processes that stamp the output meanwhile, each a share of the files,
    and answer with their exit status. Without fork (or if forking fails), `holds()`
    checks the shares in this process, one after the other.

    While no folder's stamp changed (see stamp_folders), the files expected are stamped
    one by one and no folder is read; otherwise every folder is walked by the first
    share's check, as before the cache kept the folders' stamps, and `refolder` says
    they are to be taken again. Either way the first share's check stamps the folders,
    or walks them, and so sees a file added or removed anywhere; each share's check
    compares its own files' stamps, and where the stamps changed, their hashes (or
    whether they were put back with their times: see stamps.is_restored, the site
    restored from a CI cache, whose files are not read).

    When the output held only so (a site restored from a CI cache: every file new to
    the file system, its bytes the same), the stamps the check took
    are its answer too (sent back through a pipe): they replace those `expected` in
    place (`fresh`), so that the build need not stamp and hash the whole output again
    to record it, nor hold two sets of stamps.
    """

    def __init__(
        self,
        output: Path,
        expected: Stamps,
        hashes: Hashes | Callable[[], Rest] | None = None,
        folders: Path | None = None,
    ):
        self.output = output
        self.expected = expected
        # The files' hashes, or the cache's rest that holds them (BuildCache.rest): asked
        # for only if a file's stamp changed.
        self.hashes = hashes if hashes is not None else {}
        self.folders_at = folders  # (see folders_path: read by the process that checks)
        # The output file system's present when the check began (see
        # output_dir.present), if known: a file whose times are not older is racy, as
        # by the machine's clock (a file system whose clock lags may be in that tick).
        self.present: int | None = None
        # Whether it held, but not by the folders' stamps: those are to take again.
        self.refolder = False
        # Whether the site was restored: it held only by the files' hashes (see `fresh`)
        # and every folder was read (their stamps did not hold, or none were kept).
        self.restored = False
        # Whether it held, and some folders were too recent to go by their stamps then.
        self.recent = False
        self._pids: dict[int, int] = {}  # share -> the process checking it
        self._pipes: dict[int, int] = {}  # share -> the pipe its fresh stamps come by
        self._answer: bool | None = None
        self._split: list[list[str]] | None = None  # (see _shares: told once)
        # Whether it held only by the files' hashes: their stamps are all to take again.
        self.restamp = False
        # Then, `expected` with the stamps the check took in place of those that
        # changed (hashed where racy, as stamp_of stamps), if it could tell them all.
        self.fresh: Stamps | None = None
        # Whether `fresh` holds only stamps the check took (every share with files held
        # by their hashes), none of the last build's: all judged racy as of its start.
        self.all_fresh = False

    def __enter__(self) -> OutputCheck:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop and reap the check processes still running: never leave one behind,
        whatever happened (their answer is not wanted any more)."""
        pids, self._pids = self._pids, {}
        for pid in pids.values():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        pipes, self._pipes = self._pipes, {}
        for reading in pipes.values():
            with contextlib.suppress(OSError):
                os.close(reading)

    def start(self) -> None:
        """Fork the checks."""
        if self._answer is not None or self._pids or not hasattr(os, "fork"):
            return
        shares = self._shares()
        for share, names in enumerate(shares):
            if share and not names:  # (nothing to check: answered here at once; the
                continue  # first share checks the folders too)
            try:
                reading, writing = os.pipe()
            except OSError:
                return  # the shares not started are checked here when asked
            try:
                pid = fork()
            except OSError:
                os.close(reading)
                os.close(writing)
                return
            if pid == 0:  # a forked process: it answers through its exit status (and
                status = FAILS  # its fresh stamps, if they are wanted, through the pipe)
                try:
                    # What it makes lives until it ends (os._exit): a collection would
                    # only walk, and copy page by page, the whole of the build's memory
                    # (91 of them took 12 ms of a deploy's check, which the build waited for).
                    gc.disable()
                    if shares[1]:  # (two processes: see _shares; not a restored site's walk)
                        # Their answer is wanted only once the build has read and
                        # planned: they give way to the build, which two of them on two
                        # processors slowed by a third meanwhile (an edit: 0.93 of the
                        # time with them nicer, 12 pairs in turn).
                        with contextlib.suppress(OSError):
                            os.nice(NICER)
                    os.close(reading)
                    status, fresh = self._check_share(share, names)
                    if fresh is not None:
                        _send(writing, fresh)
                finally:
                    os._exit(status)
            os.close(writing)  # (so that the pipe ends when the process does)
            self._pids[share] = pid
            self._pipes[share] = reading

    def holds(self) -> bool:
        """The answer, waiting for the forked checks if they were started."""
        if self._answer is None:
            shares = self._shares()
            statuses = []
            stamped: list[bool] = []  # (whether a share's fresh stamps were taken)
            try:
                for share in range(SHARES):
                    pid = self._pids.get(share)
                    reading = self._pipes.pop(share, None)
                    whole = reading is not None and _take_sent(
                        reading, shares[share], self.expected
                    )
                    status = _answer_of(pid) if pid is not None else None
                    self._pids.pop(share, None)  # (reaped)
                    if status is None:  # not started, or killed before it answered: ask here
                        status, fresh = self._check_share(share, shares[share])
                        taken = fresh is not None
                        if fresh is not None:
                            self.expected.update(zip(shares[share], fresh, strict=True))
                        del fresh
                    else:
                        taken = status & ~WALKED == RESTAMP and whole
                    statuses.append(status)
                    stamped.append(taken)
            except BaseException:  # Ctrl-C while waiting, say: none is left behind
                self.close()
                raise
            self._take(statuses, stamped)
            self._split = None  # (the names: not held once answered)
        assert self._answer is not None
        return self._answer

    def _take(self, statuses: list[int], stamped: list[bool]) -> None:
        """Answer from each share's status, and whether the fresh stamps of each that held
        only by their hashes were taken (into `expected`, in place: the stamps of its files
        as they are, whatever the answer; the other shares held by the stamps they have)."""
        codes = [status & ~WALKED for status in statuses]
        self._answer = FAILS not in codes
        self.restamp = RESTAMP in codes
        walked = any(status & WALKED for status in statuses)
        self.refolder = self.restamp or walked
        self.recent = RECENT in codes
        taken = [took for code, took in zip(codes, stamped, strict=True) if code == RESTAMP]
        if self._answer and self.restamp and all(taken):
            self.fresh = self.expected
            shares = self._split or []  # (a share with no files holds as stamped)
            self.all_fresh = all(c == RESTAMP for c, n in zip(codes, shares, strict=True) if n)
        self.restored = self.fresh is not None and walked

    def _shares(self) -> list[list[str]]:
        """The files each share's check stamps, told once (`start` and `holds` must
        agree). When no folder's stamp is kept (a site restored from a CI cache: see
        pipeline._forget_folders; or never stamped), the first share reads every folder,
        and that walk stamps every file anyway: it judges them all, and no second
        process is started (which stamped three quarters of them again, and read the
        cache's rest again: a deploy took 0.90 of the time without it, 11 pairs)."""
        if self._split is None:
            names = list(self.expected)
            cut = len(names) if self._walks() else int(len(names) * FIRST_SHARE)
            self._split = [names[:cut], names[cut:]]
        return self._split

    def _walks(self) -> bool:
        """Whether the first share's check will read every folder, since no folder's
        stamp is kept (see folders_path; a file of them that fails to load, or whose
        stamps no longer hold, is found out by the check itself, which then walks too)."""
        return self.folders_at is None or not self.folders_at.exists()

    def _check_share(self, share: int, names: list[str]) -> tuple[int, list[Stamp] | None]:
        """Check the files `names`, and (the first share) every folder: a status, and
        with RESTAMP the files' fresh stamps (see `_restamped`)."""
        if not self.output.is_dir():
            return FAILS, None
        racy = racy_after()  # (before any is stamped: as stamp_of takes it)
        if self.present is not None:
            racy = min(racy, self.present)
        prefix = f"{self.output}{os.sep}"
        recent = False
        if share == 0:
            known = self._known_folders()
            if known is None:  # a folder changed (or its stamp is unknown): every one is read
                status, fresh = self._check_walked(names, racy)
                return status | WALKED, fresh
            recent = known
        if _as_stamped(prefix, names, self.expected):  # (most often: made nothing)
            return (RECENT if recent else HOLDS), None
        found = _stamp_files(prefix, names)
        if found is None:
            return FAILS, None
        status, fresh = self._judge(names, found, racy)
        return (RECENT if status == HOLDS and recent else status), fresh

    def _judge(self, names: list[str], found: Stamps, racy: int) -> tuple[int, list[Stamp] | None]:
        """Whether the files `names` are unchanged, as `found` stamps them: by their
        stamps (HOLDS), or else by their hashes or as put back with their times (RESTAMP,
        with their fresh stamps: see stamps.is_restored); or not (FAILS)."""
        if len(names) == len(self.expected) == len(found):  # (all of them: not copied)
            expected, mine = self.expected, found
        else:
            expected = {name: self.expected[name] for name in names}
            mine = {name: found[name] for name in names}
        if same_stamps(expected, mine, self.output, same_names=True):  # (both: `names`)
            return HOLDS, None
        del expected, mine
        held, fresh = self._restamped(names, found, self._hashes(), racy)
        return (RESTAMP, fresh) if held else (FAILS, None)

    def _restamped(
        self, names: list[str], found: Stamps, hashes: Hashes, racy: int
    ) -> tuple[bool, list[Stamp] | None]:
        """Whether the files `names` are unchanged, as `found` (taken after the moment
        `racy`) stamps them: by their stamps, their `hashes`, or as put back with their
        times (as same_stamps judges them, `restored`); and if so, their stamps in that
        order, as stamp_of would take them: with the hash of the file's bytes where it is
        racy (the one its bytes were just found to have), or None if one cannot be told
        without reading the file again. One pass: judged, then stamped in a second, a
        restored site's 30,000 files took 95 ms of the check's process in a deploy at
        10,000 articles, while the build waited for its answer."""
        prefix = f"{self.output}{os.sep}"
        expected = self.expected
        # Compiled, each file as stamped or put back with its times (the rest: None)
        told = (
            _files.restamped(names, expected, found, hashes, racy, stamp_rules.RACY_NS)
            if _files is not None
            else None
        )
        fresh: list[Stamp] | None = []
        for at, name in enumerate(names):
            if told is not None and (taken := told[at]) is not None:
                if fresh is not None:
                    fresh.append(taken)
                continue
            old, stamp = expected[name], found[name]
            if (
                stamp != old
                and not is_restored(old, stamp)  # (the most common, by far: asked first)
                and not unchanged(old, stamp, prefix + name)
            ):
                recorded = hashes.get(name) if stamp[0] == old[0] else None
                if recorded is None or file_hash(prefix + name, stamp) != recorded:
                    return False, None
            if fresh is None:
                continue
            if is_racy(stamp, racy):
                if old[:4] != stamp:  # (found to hash as recorded, or restored)
                    digest = hashes.get(name)
                elif len(old) > 4:  # (its bytes were found to hash as its stamp says)
                    digest = old[4]
                else:
                    digest = None
                if digest is None:
                    fresh = None  # (the files left are judged still)
                    continue
                stamp = [*stamp, digest]
            fresh.append(stamp)
        return True, fresh

    def _hashes(self) -> Hashes:
        return self.hashes().output_hashes if callable(self.hashes) else self.hashes

    def _check_walked(self, names: list[str], racy: int) -> tuple[int, list[Stamp] | None]:
        """The output walked whole: the files expected all there, and no other, nor a
        folder that holds none of them (one made by hand: a build leaves none); and
        `names` unchanged (their stamps, or else their hashes)."""
        folder = str(self.output)
        folders: list[str] = []
        found = _walk(folder, len(folder) + 1, folders=folders)
        if found.keys() != self.expected.keys():
            return FAILS, None
        if not folders_of(self.expected).issuperset(folders):
            return FAILS, None
        return self._judge(names, found, racy)

    def _known_folders(self) -> bool | None:
        """Whether some folders were too recent to go by their stamps (their entries
        were listed instead), if every folder still holds the entries it held (see
        stamp_folders); None if that cannot be told so."""
        folders = load_folders(self.folders_at) if self.folders_at is not None else {}
        if not folders:
            return None
        root = str(self.output)
        listed = _folders_held(root, folders)
        if listed is None:
            return None
        if listed and not self._same_entries(listed, folders):
            return None
        return bool(listed)

    def _same_entries(self, folders: list[str], known: Folders) -> bool:
        return same_entries(self.output, folders, self.expected, known)


def same_entries(
    output: Path, folders: list[str], names: Iterable[str], known: Iterable[str]
) -> bool:
    """Whether each of the output's `folders` holds the entries it should: the files
    `names` in it, and the folders `known` below it."""
    wanted: dict[str, set[str]] = {folder: set() for folder in folders}
    for name in (*names, *known):
        if name:
            parent, _, entry = name.rpartition(os.sep)
            if parent in wanted:
                wanted[parent].add(entry)
    root = str(output)
    for folder, entries in wanted.items():
        try:
            if set(os.listdir(f"{root}{os.sep}{folder}" if folder else root)) != entries:
                return False
        except OSError:
            return False
    return True


_NEVER = 1 << 64  # later than any time a file system gives (ns since the epoch)


def settle_recent(
    output: Path, folders: Folders, names: Iterable[str], present: Callable[[], int]
) -> Folders:
    """`folders` with those stamped [] (changed too lately to go by their times: see
    stamp_folders) stamped after all, if each holds the entries it should (the files
    `names`, the folders below it). Git's rule for a racy entry, with a listing: each is
    stamped, then the moment `present()` read; a stamp older than that moment, of a
    folder listed afterwards as it should be, holds, since a change after the listing
    would move its times on. Else they stay [] (the next check lists them). A new tree
    leaves its root folder here: it was renamed into place after the build began to
    change the site, and without this the next build would list it and stamp every
    folder again."""
    recent = [folder for folder, stamp in folders.items() if not stamp]
    if not recent:
        return folders
    stamped = stamp_folders(output, _NEVER, recent)  # (none judged against a moment yet)
    moment = present()
    if len(stamped) < len(recent) or any(_folder_is_racy(s, moment) for s in stamped.values()):
        return folders
    if not same_entries(output, recent, names, folders):
        return folders
    return {**folders, **stamped}


# Stamps a message of a check's fresh stamps holds: the build process takes them in a
# message at a time, each in place of the stamp it replaces, so that the output's stamps
# are not held twice over (at 100,000 articles, 287,000 of them, about 60 MB).
SENT_CHUNK = 16_384


def _send(writing: int, stamps: list[Stamp]) -> None:
    """Send `stamps` down the pipe `writing` (a forked check's fresh stamps), as
    messages of SENT_CHUNK stamps, each a JSON list after its length."""
    for start in range(0, len(stamps), SENT_CHUNK):
        write_framed(writing, orjson.dumps(stamps[start : start + SENT_CHUNK]))


def _take_sent(reading: int, names: list[str], into: Stamps) -> bool:
    """Put the fresh stamps a check process sends down the pipe `reading` for its files
    `names` into `into`, a message at a time as they come (then close the pipe); whether
    they were whole: a well-formed stamp for each file, in that order, and nothing else.
    (Those taken before a fault are its files' stamps all the same: the process sends
    them once it has checked every file.)"""
    done, whole = 0, True
    try:
        while whole and (head := read_exactly(reading, HEADER)):
            size = int.from_bytes(head, "big")
            message = read_exactly(reading, size) if 0 < size <= _MOST else None
            stamps = _stamps_in(message)
            whole = stamps is not None and done + len(stamps) <= len(names)
            if stamps is not None and whole:
                into.update(zip(names[done : done + len(stamps)], stamps, strict=True))
                done += len(stamps)
        while os.read(reading, 1 << 20):  # (the rest unread: the process must not wait)
            whole = False
    finally:
        os.close(reading)
    return whole and done == len(names)


_MOST = 1 << 30  # bytes a message can hold, at most (a length past it is damage)


def _stamps_in(message: bytes | None) -> list[Stamp] | None:
    """The stamps a message holds, if it is a list of well-formed stamps."""
    try:
        stamps = orjson.loads(message) if message else None
    except orjson.JSONDecodeError:
        return None
    return stamps if type(stamps) is list and well_formed_all(stamps) else None


def _answer_of(pid: int) -> int | None:
    """The exit status of the check process `pid` (waiting for it); None if it was
    killed before it answered, or reaped by someone else."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return None
    if os.WIFSIGNALED(status):
        return None
    return os.waitstatus_to_exitcode(status)


def _folders(data: Any) -> Folders:
    """The stored folders' stamps, or none when absent or malformed (the output is then
    checked by reading every folder, as before there were any)."""
    # (Each stamp is only compared with a folder's, and one that is not a list of three
    # numbers is never equal to it: the folder is then read. Not checked here: 17,000
    # folders at 10,000 articles.)
    return data if isinstance(data, dict) else {}


def _signed(data: Any) -> SignedState | None:
    """The stored SignedState, or None when it is absent or malformed (then every page
    is signed again, as before there was one)."""
    if not isinstance(data, dict) or data.get("keys") != SIGNED_KEYS:
        return None
    site, shape = data.get("site"), data.get("shape")
    digests, templates = data.get("digests"), data.get("templates")
    if not (isinstance(site, str) and isinstance(shape, str)):
        return None
    for mapping in (digests, templates):
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            return None
    assert isinstance(digests, dict) and isinstance(templates, dict)
    return SignedState(site, shape, digests, templates)


def _signed_data(signed: SignedState | None) -> dict[str, Any] | None:
    if signed is None:
        return None
    return {
        "keys": SIGNED_KEYS,
        "site": signed.site,
        "shape": signed.shape,
        "digests": signed.digests,
        "templates": signed.templates,
    }


def _well_formed(data: Any) -> bool:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return False
    checks = {
        "version": str,
        "inputs": dict,
        "options": dict,
        "output": dict,
        "articles": int,
        "page_count": int,
        "rest": str,
    }
    if any(not isinstance(data.get(key), kind) for key, kind in checks.items()):
        return False
    for stamps in (data["inputs"], data["output"]):  # 40,000 at 10,000 articles
        if not well_formed_all(stamps.values()):
            return False
    return _moment(data.get("valid_until"))


def _moment(value: Any) -> bool:
    """Whether `value` is None or a date and time with its offset (as _next_due writes)."""
    if value is None:
        return True
    try:
        return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def save_cache(path: Path, cache: BuildCache) -> None:
    """Write the cache whole or not at all (sealed; see broadsheet.sealed): its rest
    first, unless it was never read (and so is the file already there), then the cache,
    which names the rest by its digest. Raises OSError when it cannot."""
    rest = rest_path(path)
    kept_file, kept_digest = cache._kept or (None, "")
    unread = kept_file == rest
    if unread and (cache._rest is None or not cache._rest.whole) and cache.names_kept():
        digest = kept_digest  # (a rest that was not the head's stays not trusted)
    elif unread and not cache.rest().whole:
        digest = ""  # (nor does one kept in the order of other names: it is left behind)
    else:
        kept = cache.rest()
        data = {
            **_columns("pages", kept.pages, cache.output),
            "signed": _signed_data(kept.signed),
            **_columns("input_hashes", kept.input_hashes, cache.inputs),
            **_columns("output_hashes", kept.output_hashes, cache.output),
        }
        digest = write_sealed_parts(rest, _json_parts(data))
    head = {
        "format": FORMAT,
        "version": code_version(path.parent),
        "inputs": cache.inputs,
        "options": cache.options,
        "output": cache.output,
        "valid_until": cache.valid_until,
        "articles": cache.articles,
        "page_count": cache.page_count,
        "rest": digest,
    }
    write_sealed_parts(path, _json_parts(head))
    ignore = path.parent / ".gitignore"  # git leaves the cache alone
    if read_file(ignore) != b"*\n":
        clear(ignore)
        ignore.write_bytes(b"*\n")
