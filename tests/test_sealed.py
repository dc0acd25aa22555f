"""Sealed files: written whole, read back only when they verify, and written without a
second copy of what they hold (the build cache is ~80 MB at 100,000 articles)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from broadsheet.sealed import read_sealed, write_sealed


def test_a_sealed_file_reads_back_and_damage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "state"
    write_sealed(path, b'{"pages": 3}')
    assert read_sealed(path) == b'{"pages": 3}'
    path.write_bytes(path.read_bytes().replace(b"3", b"4"))
    assert read_sealed(path) is None
    assert list(path.parent.iterdir()) == [path]  # no temporary file left beside it


def test_writing_holds_no_second_copy_of_the_payload(tmp_path: Path) -> None:
    payload = b"x" * 20_000_000
    tracemalloc.start()
    try:
        write_sealed(tmp_path / "big", payload)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < len(payload) // 10
    assert read_sealed(tmp_path / "big") == payload
