"""Which Broadsheet builds, as far as its output goes: its version, a hash of its own
modules, the Python that runs them, and the versions of the libraries whose output it
publishes.

A build cache, and the build's state beside it, are trusted only by the Broadsheet that
wrote them: a change to its code (a push that changes broadsheet/ in this repository)
or an upgraded Markdown can change how the same sources become pages, and a page whose
sources did not change would otherwise keep the old code's output. A version number
alone would have to be raised by hand with every such change.

Hashing the modules and asking for the libraries' versions takes 30 ms, a tenth of a
build that finds nothing to do; so the answer is kept beside the cache (MEMO), under
the stamps of those files, and taken again only when one of them changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import sys
from pathlib import Path

import orjson

import broadsheet
from broadsheet.sealed import read_sealed, write_sealed

MEMO = "code.json"
# The libraries whose work is in the site (module: distribution): the HTML of the
# articles, the templates' and their escaping, the code's colours, the front matter as
# parsed, the search index's stems.
LIBRARIES = {
    "markdown": "Markdown",
    "jinja2": "Jinja2",
    "markupsafe": "MarkupSafe",
    "pygments": "Pygments",
    "yaml": "PyYAML",
    "frontmatter": "python-frontmatter",
    "Stemmer": "PyStemmer",
    "snowballstemmer": "snowballstemmer",
}
_known: str | None = None  # this process's answer: the code it runs does not change


def code_version(memo_folder: Path | None = None) -> str:
    """This Broadsheet's version, with a hash of its code and its libraries' versions.
    Worked out once a process (its modules are loaded once), from the memo in
    `memo_folder` when the files it was worked out from are as they were."""
    global _known
    if _known is None:
        modules = _modules()
        stamps = _stamps(modules)
        memo = memo_folder / MEMO if memo_folder is not None else None
        remembered = _remembered(memo, stamps)
        _known = remembered or _work_out(modules)
        if memo is not None and remembered is None:
            with contextlib.suppress(OSError):  # (only saves the next build 30 ms)
                write_sealed(memo, orjson.dumps({"stamps": stamps, "version": _known}))
    return _known


def _package() -> Path:
    return Path(broadsheet.__file__).resolve().parent


def _modules() -> list[Path]:
    """Broadsheet's modules (and the C source of the one compiled), in a fixed order."""
    root = _package()
    found = []
    for folder, names, files in os.walk(root):
        names[:] = sorted(name for name in names if name != "__pycache__")
        found += [Path(folder) / name for name in sorted(files) if name.endswith((".py", ".c"))]
    return found


def _stamps(modules: list[Path]) -> list[list[object]]:
    """What the memo is kept under: the Python that runs (its version and program), and
    each module's and each library's first file's path, size, modification time and
    inode (a reinstall changes them)."""
    files = [str(path) for path in modules]
    for module in LIBRARIES:
        with contextlib.suppress(ImportError, ValueError):
            spec = importlib.util.find_spec(module)
            if spec is not None and spec.origin:
                files.append(spec.origin)
    # The interpreter too: a venv kept across an upgrade of the Python it runs on.
    stamps: list[list[object]] = [["python", sys.version, os.path.realpath(sys.executable)]]
    for name in files:
        with contextlib.suppress(OSError):
            info = os.stat(name)
            stamps.append([name, info.st_size, info.st_mtime_ns, info.st_ino])
    return stamps


def _remembered(memo: Path | None, stamps: list[list[object]]) -> str | None:
    if memo is None:
        return None
    payload = read_sealed(memo)
    try:
        data = orjson.loads(payload) if payload is not None else None
    except orjson.JSONDecodeError:
        return None
    if type(data) is dict and data.get("stamps") == stamps and type(data.get("version")) is str:
        return str(data["version"])
    return None


def _work_out(modules: list[Path]) -> str:
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.blake2b(digest_size=10)
    root = _package()
    for path in modules:
        with contextlib.suppress(OSError):
            data = path.read_bytes()
            digest.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
            digest.update(data)
    # Python's own HTML parser reads raw HTML (Markdown's, and site paths'), and its
    # releases have changed how (comments, CDATA): the interpreter counts too.
    import platform  # (only when the code is hashed: 2 ms to import, in every build)

    digest.update(f"{platform.python_implementation()} {platform.python_version()}\0".encode())
    for distribution in LIBRARIES.values():
        try:
            found = version(distribution)
        except PackageNotFoundError:
            found = "absent"
        digest.update(f"{distribution}\0{found}\0".encode())
    return f"{broadsheet.__version__}+{digest.hexdigest()}"
