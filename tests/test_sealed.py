"""Sealed files: written whole, read back only when they verify, and written without a
second copy of what they hold (the build cache is ~80 MB at 100,000 articles)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from broadsheet.publish.cache import _json_parts, load_cache
from broadsheet.sealed import read_sealed, seal, write_sealed, write_sealed_parts


def test_a_sealed_file_reads_back_and_damage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "state"
    write_sealed(path, b'{"pages": 3}')
    assert read_sealed(path) == b'{"pages": 3}'
    path.write_bytes(path.read_bytes().replace(b"3", b"4"))
    assert read_sealed(path) is None
    assert list(path.parent.iterdir()) == [path]  # no temporary file left beside it


def test_a_file_sealed_by_blake2b_before_xxh3_still_reads(tmp_path: Path) -> None:
    """Files sealed before XXH3 (an image cache is hours of encoding) verify by the
    blake2b hash they were sealed with; damage to them is refused all the same."""
    import hashlib

    payload = b'{"files": []}'
    head = hashlib.blake2b(payload, digest_size=16).hexdigest().encode()
    (tmp_path / "old").write_bytes(head + b"\n" + payload)
    assert read_sealed(tmp_path / "old") == payload
    (tmp_path / "damaged").write_bytes(head + b"\n" + payload.replace(b"[", b"{"))
    assert read_sealed(tmp_path / "damaged") is None
    assert seal(payload).split(b"\n", 1)[0] != head  # (written by XXH3)


_WRITE_PEAK = """
import sys, tracemalloc
from pathlib import Path
from broadsheet.sealed import write_sealed
payload = b"x" * 20_000_000
tracemalloc.start()
write_sealed(Path(sys.argv[1]), payload)
print(tracemalloc.get_traced_memory()[1])
"""


def test_writing_holds_no_second_copy_of_the_payload(tmp_path: Path) -> None:
    """Measured in a process of its own: tracemalloc counts the allocations of every
    thread, and the suite's process has others (a test server's, the browser driver's)."""
    run = subprocess.run(
        [sys.executable, "-c", _WRITE_PEAK, str(tmp_path / "big")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert int(run.stdout) < 20_000_000 // 10
    assert read_sealed(tmp_path / "big") == b"x" * 20_000_000


@given(st.lists(st.binary(max_size=50), max_size=6))
@settings(max_examples=30)
def test_a_payload_written_in_parts_is_sealed_as_the_whole(parts: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "state"
        write_sealed_parts(path, iter(parts))
        whole = b"".join(parts)
        assert path.read_bytes() == seal(whole)
        assert read_sealed(path) == whole


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(), _JSON, max_size=6))
@settings(max_examples=60)
def test_the_build_cache_in_parts_is_the_json_of_the_whole(data: dict[str, object]) -> None:
    assert b"".join(_json_parts(data)) == orjson.dumps(data)


_SAVE = """
import resource, sys
from pathlib import Path
from broadsheet.publish.cache import BuildCache, save_cache
names = [f"asia/article-{n:05}/index.html" for n in range(60_000)]
cache = BuildCache(
    output={name: [11_000 + n, 10**18 + n, 0, 10**6 + n] for n, name in enumerate(names)},
    output_hashes={name: f"{n:032x}" for n, name in enumerate(names)},
    pages={name: f"{n:032x}" for n, name in enumerate(names)},
)
save_cache(Path(sys.argv[1]), BuildCache())  # (orjson's first use)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
save_cache(Path(sys.argv[1]), cache)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def test_saving_the_build_cache_holds_one_part_at_a_time(tmp_path: Path) -> None:
    """The cache of 10,000 articles is 9 MB of JSON; saved whole, it was held all at once
    on top of the build: the peak of every rebuild, 10 MB over the stage before. Its
    largest part (the output's stamps) is a third of it. (Memory as the system counts
    it: orjson's own buffers are not all traced by tracemalloc.)"""
    path = tmp_path / "build.json"
    run = subprocess.run(
        [sys.executable, "-c", _SAVE, str(path)], capture_output=True, text=True, check=True
    )
    grew = int(run.stdout) * 1024  # (ru_maxrss is in KB on Linux)
    assert grew < path.stat().st_size * 0.5  # (the whole at once: 1.0)
    loaded = load_cache(path)
    assert loaded is not None and len(loaded.output) == 60_000
