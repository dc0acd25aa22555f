"""Full-text search: Pagefind indexes the staged site's article bodies into pagefind/."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import cbor2

from broadsheet.errors import BroadsheetError

SEARCH_DIR = "pagefind"


def index_search(stage: Path) -> None:
    """Run Pagefind over the built pages; it reads only elements marked data-pagefind-body."""
    command = [sys.executable, "-m", "pagefind", "--site", str(stage), "--silent"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BroadsheetError(f"the search indexer (Pagefind) could not run: {exc}") from exc
    if result.returncode != 0 or not (stage / SEARCH_DIR / "pagefind.js").is_file():
        detail = (result.stderr or result.stdout).strip().splitlines()
        reason = detail[-1] if detail else f"exit code {result.returncode}"
        raise BroadsheetError(
            f"the search indexer (Pagefind) failed: {reason}. "
            "Is it installed? pip install 'pagefind[bin]'"
        )
    make_deterministic(stage / SEARCH_DIR)


def make_deterministic(bundle: Path) -> None:
    """Rewrite Pagefind's filter index in a fixed order, so that two builds are identical.

    Pagefind (1.5) writes each filter's values in hash-map order, which changes from run
    to run, and names the file (and so the metadata file that lists it) after a hash of
    its bytes. We sort the values, re-hash, rename, and update both references.
    """
    entry_path = bundle / "pagefind-entry.json"
    entry = json.loads(entry_path.read_text(encoding="utf-8"))
    for language, info in entry["languages"].items():
        meta_path = bundle / f"pagefind.{info['hash']}.pf_meta"
        meta = _read(meta_path)
        filters = []
        for name, file in meta[3]:
            filter_path = bundle / "filter" / f"{file}.pf_filter"
            data = _read(filter_path)
            data[1] = sorted(data[1], key=lambda value: value[0])
            filters.append([name, _rewrite(filter_path, data, language, 7, ".pf_filter")])
        meta[3] = sorted(filters)
        info["hash"] = _rewrite(meta_path, meta, language, 10, ".pf_meta", prefix="pagefind.")
    text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    entry_path.write_text(text, encoding="utf-8")


_SIGNATURE = b"pagefind_dcd"


def _read(path: Path) -> Any:
    data = gzip.decompress(path.read_bytes())
    if not data.startswith(_SIGNATURE):
        raise BroadsheetError("not a Pagefind index file", path)
    return cbor2.loads(data[len(_SIGNATURE) :])


def _rewrite(
    path: Path, data: Any, language: str, digits: int, suffix: str, prefix: str = ""
) -> str:
    """Write `data` under a name from its own hash; return that name (without affixes)."""
    payload = _SIGNATURE + cbor2.dumps(data)
    name = f"{language}_{hashlib.sha256(payload).hexdigest()[:digits]}"
    path.unlink()
    (path.parent / f"{prefix}{name}{suffix}").write_bytes(gzip.compress(payload, mtime=0))
    return name
