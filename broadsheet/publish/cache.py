"""The persistent build cache: plain JSON, checked before it is trusted, never pickled.

It records what the last build read (the size and modification time of every source
file), how it was asked to build (options), the signature of every page it wrote, and
what the output folder held afterwards. A build whose sources, options and output all
still match does nothing; otherwise the signatures say which pages to render again.
A cache that is missing, corrupt, from another version, or describes an output that
has changed since, is ignored, and the build starts cold.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from broadsheet import __version__
from broadsheet.config import SiteConfig
from broadsheet.workers import fork

FORMAT = 1
CACHE_DIR = ".broadsheet-cache"

Stamps = dict[str, list[int]]  # relative path -> [size, mtime_ns]


@dataclass(frozen=True)
class SignedState:
    """What one build's page signatures were taken from: enough for the next build to
    tell which of them still hold without signing every page again."""

    site: str  # a hash of the site-wide key
    shape: str  # a hash of every shown post's place and metadata, in reading order
    digests: dict[str, str]  # each shown post's url_path -> its file's digest
    templates: dict[str, str]  # each template pages use -> a hash of it and its includes


@dataclass
class BuildCache:
    inputs: Stamps = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)  # output path -> signature
    output: Stamps = field(default_factory=dict)
    valid_until: str | None = None  # the first scheduled post's date: a rebuild is due then
    articles: int = 0
    signed: SignedState | None = None  # what `pages` were taken from

    def is_current(self, inputs: Stamps, options: dict[str, Any], now: datetime) -> bool:
        if inputs != self.inputs or options != self.options:
            return False
        return self.valid_until is None or now < datetime.fromisoformat(self.valid_until)


def cache_path(config: SiteConfig, output: Path) -> Path:
    key = hashlib.blake2b(str(output).encode(), digest_size=8).hexdigest()
    return config.root / CACHE_DIR / f"build-{key}.json"


def stamp_tree(root: Path, relative_to: Path | None = None) -> Stamps:
    """Size and modification time of every file below `root` (or of `root` itself).

    Plain strings and os.scandir: this runs over every source and output file on every
    build, so it must cost little even for tens of thousands of files.
    """
    start = len(str(relative_to or root)) + 1
    if root.is_file():
        stat = root.stat()
        name = str(root)[start:] if relative_to else root.name
        return {name: [stat.st_size, stat.st_mtime_ns]}
    return dict(sorted(_walk(str(root), start).items()))


def _walk(folder: str, start: int) -> Stamps:
    """The stamps of the files below `folder`, named from character `start` on, in no
    particular order."""
    stamps: Stamps = {}
    pending = [folder]
    while pending:
        try:
            entries = os.scandir(pending.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                else:
                    try:
                        stat = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    stamps[entry.path[start:]] = [stat.st_size, stat.st_mtime_ns]
    return stamps


def source_stamps(config: SiteConfig) -> Stamps:
    stamps: Stamps = {}
    for name in (config.content_dir, config.templates_dir, config.static_dir, "pyproject.toml"):
        path = config.path(name)
        if path.exists():
            for relative, value in stamp_tree(path, config.root).items():
                stamps[relative] = value
    return stamps


def load_cache(path: Path) -> BuildCache | None:
    """The cache at `path`, or None when it is absent, unreadable or malformed. It is
    trusted only once an `OutputCheck` has found the output as it describes."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not _well_formed(data) or data["version"] != __version__:
        return None
    return BuildCache(
        inputs=data["inputs"],
        options=data["options"],
        pages=data["pages"],
        output=data["output"],
        valid_until=data["valid_until"],
        articles=data["articles"],
        signed=_signed(data.get("signed")),
    )


class OutputCheck:
    """Whether the output folder still holds exactly the files a cache recorded: if not
    (a page edited or deleted by hand, or the folder gone), the cache is not trusted.

    Stamping every output file takes a quarter of a second at 10,000 articles, and a
    build with edits to make needs the answer only once it has read and planned. So
    `start()` forks a process that stamps the output meanwhile and answers with its exit
    status. Without fork (or if forking fails), `holds()` checks in this process.
    """

    def __init__(self, output: Path, expected: Stamps):
        self.output = output
        self.expected = expected
        self._pid: int | None = None
        self._answer: bool | None = None

    def __enter__(self) -> OutputCheck:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pid is not None:  # never leave the process behind, whatever happened
            self.holds()

    def start(self) -> None:
        if self._answer is not None or self._pid is not None or not hasattr(os, "fork"):
            return
        try:
            pid = fork()
        except OSError:
            return
        if pid == 0:  # the forked process: it only answers, through its exit status
            holds = False
            try:
                holds = self._check()
            finally:
                os._exit(0 if holds else 1)
        self._pid = pid

    def holds(self) -> bool:
        """The answer, waiting for the forked check if one was started."""
        if self._answer is None:
            if self._pid is None:
                self._answer = self._check()
            else:
                pid, self._pid = self._pid, None
                try:
                    _, status = os.waitpid(pid, 0)
                except ChildProcessError:  # reaped by someone else: check here instead
                    self._answer = self._check()
                else:
                    if os.WIFSIGNALED(status):  # killed before it answered: ask here
                        self._answer = self._check()
                    else:
                        self._answer = os.waitstatus_to_exitcode(status) == 0
        return self._answer

    def _check(self) -> bool:
        folder = str(self.output)
        return self.output.is_dir() and _walk(folder, len(folder) + 1) == self.expected


def _signed(data: Any) -> SignedState | None:
    """The stored SignedState, or None when it is absent or malformed (then every page
    is signed again, as before there was one)."""
    if not isinstance(data, dict):
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
        "pages": dict,
        "output": dict,
        "articles": int,
    }
    if any(not isinstance(data.get(key), kind) for key, kind in checks.items()):
        return False
    if not all(isinstance(v, str) for v in data["pages"].values()):
        return False
    for stamps in (data["inputs"], data["output"]):  # 27,000 at 10,000 articles
        if not all(
            type(v) is list and len(v) == 2 and type(v[0]) is int and type(v[1]) is int
            for v in stamps.values()
        ):
            return False
    return data.get("valid_until") is None or isinstance(data["valid_until"], str)


def save_cache(path: Path, cache: BuildCache) -> None:
    """Write the cache whole or not at all (a temporary file renamed into place)."""
    data = {
        "format": FORMAT,
        "version": __version__,
        "inputs": cache.inputs,
        "options": cache.options,
        "pages": cache.pages,
        "output": cache.output,
        "valid_until": cache.valid_until,
        "articles": cache.articles,
        "signed": _signed_data(cache.signed),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / ".gitignore").write_text("*\n", encoding="utf-8")
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(orjson.dumps(data))
    os.replace(temporary, path)


def remove_cache(path: Path) -> None:
    path.unlink(missing_ok=True)
