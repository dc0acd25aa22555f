"""The image cache: every file ever encoded, kept by the hash of its source's bytes and
the settings (and encoder versions) that made it, so that no photo is encoded twice.

Below the cache folder:
- `entries/<key>.json`: what one source gave for one part (its srcsets, or its crops):
  each file's published name, role, size and type;
- `files/<name>`: each published file's bytes (the name carries their hash);
- `sources.json`: each source path's stamp and the hash of its bytes, so that an
  unchanged photo is not even read again (a fresh clone reads each once);
- `used.json`: in which build each entry was last used; an entry no build has used in
  the last KEEP builds is dropped, with the files no kept entry names.

Every file is sealed (broadsheet.sealed): one that does not verify reads as missing,
and what it held is encoded again.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from broadsheet.config import ImageSettings
from broadsheet.errors import BroadsheetError
from broadsheet.images.info import Encoded, ImageError
from broadsheet.paths import read_source
from broadsheet.sealed import read_sealed, write_sealed
from broadsheet.stamps import HASHED, bytes_hash, legacy_bytes_hash, stamp_of

KEEP = 3  # builds an entry may go unused before it is dropped
RECIPE = 2  # bump when encode.py changes what it makes from the same settings


def source_digest(data: bytes) -> str:
    """The hash of a source's bytes: the one the build cache takes of every file (and
    shares through HASHED), so that a photo is read once to tell a build both."""
    return bytes_hash(data)


def legacy_source_digest(data: bytes) -> str:
    """The hash of a source's bytes that keyed the entries of caches written before
    source_digest was XXH3 (see publish._from_legacy)."""
    return legacy_bytes_hash(data)


def file_name(encoded: Encoded) -> str:
    """A published file's name: a hash of its bytes, so that it may be cached for ever."""
    digest = hashlib.blake2b(encoded.data, digest_size=8).hexdigest()
    return f"{digest}-{encoded.width}.{encoded.extension}"


def entry_key(digest: str, settings: ImageSettings, part: str, encoders: list[Any]) -> str:
    """The key of one part ("srcsets" or "crops") of the source whose bytes hash
    `digest`, made with the `encoders` (their versions)."""
    recipe = {
        "recipe": RECIPE,
        "part": part,
        "widths": settings.widths if part == "srcsets" else None,
        "formats": settings.formats,
        "quality": settings.quality,
        "encoders": encoders,
    }
    return hashlib.blake2b(digest.encode() + orjson.dumps(recipe), digest_size=16).hexdigest()


def encoder_versions() -> list[Any]:
    from PIL import __version__, features

    names = ("avif", "webp", "jpg", "zlib", "littlecms2")
    return [__version__] + [features.version(name) for name in names]


def _pillow_stamp() -> list[Any] | None:
    """The stamps of Pillow's compiled modules and version file: they change whenever
    Pillow or an encoder it bundles does. None if they cannot be found."""
    spec = importlib.util.find_spec("PIL")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    if len(folders) != 1:
        return None
    try:
        with os.scandir(folders[0]) as entries:
            found = [
                [entry.path, *stamp_of(entry.path, entry.stat(), None)]
                for entry in entries
                if entry.name.endswith((".so", ".pyd")) or entry.name == "_version.py"
            ]
    except OSError:
        return None
    return sorted(found) or None


@dataclass(frozen=True)
class Entry:
    """One published file of an entry."""

    name: str
    role: str
    mime: str
    width: int
    height: int


class ImageStore:
    """The cache folder `root` (None: no cache; every image is encoded)."""

    def __init__(self, root: Path | None):
        self.root = root
        self._sources: dict[str, list[Any]] = {}
        self._used: dict[str, list[Any]] = {}
        self._generation = 0
        self._touched: dict[str, list[str]] = {}
        self._pillow: dict[str, Any] = {}
        self._changed = False  # whether this build read a source or wrote an entry anew
        if root is not None:
            self._sources = _read_json(root / "sources.json") or {}
            used = _read_json(root / "used.json") or {}
            self._generation = int(used.pop("", 0)) + 1 if isinstance(used.get(""), int) else 1
            self._used = used
            self._pillow = _read_json(root / "pillow.json") or {}

    def encoders(self) -> list[Any]:
        """The versions of Pillow and its encoders: remembered while Pillow's files are
        unchanged, so that a build whose images are all cached never imports Pillow."""
        stamp = _pillow_stamp()
        versions = self._pillow.get("versions")
        if stamp is not None and self._pillow.get("stamp") == stamp and isinstance(versions, list):
            return versions
        versions = encoder_versions()
        self._pillow = {"stamp": stamp, "versions": versions}
        if self.root is not None and stamp is not None:
            with contextlib.suppress(OSError):
                write_sealed(self.root / "pillow.json", orjson.dumps(self._pillow))
        return versions

    def digest(self, path: Path, racy: int) -> str:
        """The hash of the bytes of the source at `path`, from its stamp if it has not
        changed since it was last read (and was not racy then)."""
        key = str(path)
        try:
            info = os.stat(path)
        except OSError as exc:
            raise ImageError(f"cannot read the image: {exc.strerror or exc}", path) from exc
        stamp = stamp_of(key, info, None)
        known = self._sources.get(key)
        if isinstance(known, list) and len(known) == 2 and known[0] == stamp:
            return str(known[1])
        shared = HASHED.get(key, stamp)  # the build's hashes of files
        if shared is not None:
            self.remember(path, info, shared, racy)
            return shared
        try:
            data = read_source(path)
        except BroadsheetError as exc:
            raise ImageError(f"cannot read the image: {exc.message}", path) from exc
        digest = source_digest(data)
        self.remember(path, info, digest, racy)
        with contextlib.suppress(OSError):
            if stamp_of(key, os.stat(path), None) == stamp:  # the bytes hashed are these
                HASHED.put(key, stamp, digest)
        return digest

    def remember(self, path: Path, info: os.stat_result, digest: str, racy: int) -> None:
        if max(info.st_mtime_ns, info.st_ctime_ns) < racy:
            self._sources[str(path)] = [stamp_of(str(path), info, None), digest]
            self._changed = True

    def entry(self, key: str) -> list[Entry] | None:
        """The files of the entry `key`; None if there is none, or it is not one this
        package wrote (its names become paths: nothing but a file's name passes)."""
        if self.root is None:
            return None
        found = _read_json(self.root / "entries" / f"{key}.json")
        try:
            entries = [Entry(**item) for item in found["files"]] if found is not None else None
        except (TypeError, KeyError):
            return None
        return entries if entries and all(map(_sound, entries)) else None

    def file(self, name: str) -> bytes | None:
        return read_sealed(self.root / "files" / name) if self.root is not None else None

    def put(self, key: str, files: list[tuple[Entry, bytes]]) -> None:
        """Keep an entry and its files; a cache that cannot be written is left behind."""
        if self.root is None:
            return
        self._changed = True
        with contextlib.suppress(OSError):
            for entry, data in files:
                write_sealed(self.root / "files" / entry.name, data)
            self._write_entry(key, [entry for entry, _ in files])

    def alias(self, key: str, entries: list[Entry]) -> None:
        """Keep the files of `entries` (kept already, under another key) as the entry
        `key` too; the other is dropped once no build uses it."""
        if self.root is None:
            return
        self._changed = True
        with contextlib.suppress(OSError):
            self._write_entry(key, entries)

    def _write_entry(self, key: str, entries: list[Entry]) -> None:
        """Write the entry `key` (its files kept already). Raises OSError."""
        assert self.root is not None
        items = [entry.__dict__ for entry in entries]
        write_sealed(self.root / "entries" / f"{key}.json", orjson.dumps({"files": items}))

    def use(self, key: str, names: list[str]) -> None:
        self._touched[key] = names

    def _same_as_last(self, wanted: set[str]) -> bool:
        """Whether this build used what the last one did, and read and wrote nothing
        new: then there is nothing to record (and no build to count)."""
        last = {k for k, v in self._used.items() if _recent(v, self._generation)}
        last = {k for k in last if self._used[k][0] == self._generation - 1}
        return not self._changed and self._touched.keys() == last and self._sources.keys() == wanted

    def finish(self, sources: set[Path]) -> None:
        """Record this build's use, and drop what no recent build used (nor anything
        written in the last GRACE seconds: another build may be using the cache)."""
        wanted = {str(path) for path in sources}
        if self.root is None or self._same_as_last(wanted):
            return
        latest = _read_json(self.root / "used.json") or {}  # another build's, maybe
        latest.pop("", None)
        used = {k: v for k, v in {**latest, **self._used}.items() if _recent(v, self._generation)}
        used.update({k: [self._generation, names] for k, names in self._touched.items()})
        kept = {name for _, names in used.values() for name in names}
        with contextlib.suppress(OSError):
            entries = {name.removesuffix(".json") for name in _listing(self.root / "entries")}
            for key in entries - used.keys():
                _drop(self.root / "entries" / f"{key}.json")
            for name in _listing(self.root / "files"):
                if name not in kept:
                    _drop(self.root / "files" / name)
            known = {k: v for k, v in self._sources.items() if k in wanted}
            write_sealed(self.root / "sources.json", orjson.dumps(known))
            write_sealed(self.root / "used.json", orjson.dumps({**used, "": self._generation}))


GRACE = 600  # seconds


def _drop(path: Path) -> None:
    try:
        if time.time() - path.stat().st_mtime > GRACE:
            path.unlink()
    except OSError:
        pass


NAME = re.compile(r"[0-9a-f]{16}-[0-9]+\.(avif|webp|jpg|png|gif|svg)")  # what file_name() gives


def _sound(entry: Entry) -> bool:
    sizes = (entry.width, entry.height)
    return (
        isinstance(entry.name, str)
        and NAME.fullmatch(entry.name) is not None
        and isinstance(entry.role, str)
        and isinstance(entry.mime, str)
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in sizes)
    )


def _recent(value: Any, generation: int) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int)
        and generation - value[0] < KEEP
        and isinstance(value[1], list)
    )


def _listing(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _read_json(path: Path) -> Any:
    payload = read_sealed(path)
    if payload is None:
        return None
    try:
        found = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return found if isinstance(found, dict) else None
