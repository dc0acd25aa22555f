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
    assert set(report["largest"]) == {"docs", "facets", "lengths", "meta", "terms", "words"}
    for entry in report["largest"].values():
        assert 0 < entry["gz_kb"] <= entry["raw_kb"]


def test_the_index_cost_is_measured_against_the_same_build_without_it(tmp_path: Path) -> None:
    from benchmarks.search import build_broadsheet, build_unindexed, make_project

    project = make_project(tmp_path / "project", 30)
    build_unindexed(project, "plain")
    pages = {p.relative_to(project / "plain") for p in (project / "plain").rglob("*.html")}
    assert Path("search/index.html") in pages and len(pages) > 30  # the same site...
    assert not (project / "plain" / "search" / "meta.json").exists()  # ...but its index
    assert not list((project / ".broadsheet-cache").glob("state-*/terms/*"))
    report = build_broadsheet(project)
    assert json.loads((project / "site/search/meta.json").read_text())["docs"] == 30
    assert report["unindexed_seconds"] > 0 and not (project / "site-unindexed").exists()
