"""The search benchmark's --scale mode writes the whole index and reports its files."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.search import scale


def test_scale_writes_every_index_file_and_reports_the_largest(tmp_path: Path) -> None:
    report = scale(120, tmp_path)
    search = tmp_path / "site" / "search"
    meta = json.loads((search / "meta.json").read_text())
    assert meta["docs"] == 120
    assert len(list((search / "docs").glob("*.json"))) == 120
    assert len(list((search / "terms").glob("*.json"))) == meta["shards"]
    assert set(report["largest"]) == {"docs", "facets", "meta", "terms", "words"}
    for entry in report["largest"].values():
        assert 0 < entry["gz_kb"] <= entry["raw_kb"]
