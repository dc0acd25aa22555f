"""The search benchmark's --scale mode writes the whole index and reports its files; its
--share mode measures the index's cost in pairs, and --parts each part's."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest

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


def test_the_index_share_is_taken_from_pairs_built_in_turn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import benchmarks.search as search

    built: list[tuple[bool, float]] = []  # each build: with the index or not, its seconds
    real = search.measured

    def noted(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Any:
        report = real(command, cwd, env)
        built.append(((cwd / "site" / "search" / "meta.json").exists(), report["seconds"]))
        return report

    monkeypatch.setattr(search, "measured", noted)
    figures = search.share(20, tmp_path, 2)
    assert [kind for kind, _ in built] == [True, True, False, True, False]  # (warm-up first)
    seconds = [s for _, s in built[1:]]
    assert figures["ratios"] == [seconds[0] / seconds[1], seconds[2] / seconds[3]]
    assert figures["ratio"] == statistics.median(figures["ratios"])
    assert figures["share"] == 1 - 1 / figures["ratio"]
    assert figures["with_peak_mb"] > 0 and figures["without_peak_mb"] > 0
    assert f"the index is {figures['share']:.1%}" in capsys.readouterr().out


def test_each_part_s_cost_is_taken_from_pairs_with_that_part_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import benchmarks.search as search

    built: list[tuple[bool, bool, float]] = []  # each build: its docs files, its merge
    real = search.measured

    def noted(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Any:
        report = real(command, cwd, env)
        index = cwd / "site" / "search"
        built.append(((index / "docs").is_dir(), (index / "meta.json").exists(), report["seconds"]))
        return report

    monkeypatch.setattr(search, "measured", noted)
    figures = search.parts(20, tmp_path, 2)
    whole, no_docs, no_merge = (True, True), (False, True), (True, False)
    kinds = [kind[:2] for kind in built]
    assert kinds == [whole, *[whole, no_docs] * 2, *[whole, no_merge] * 2]  # (warm-up first)
    printed = capsys.readouterr().out
    for part, runs in (("docs files", built[1:5]), ("merge", built[5:9])):
        seconds = [s for *_, s in runs]
        ratios = [seconds[0] / seconds[1], seconds[2] / seconds[3]]
        assert figures[part]["ratios"] == ratios
        assert figures[part]["ratio"] == statistics.median(ratios)
        assert figures[part]["share"] == 1 - 1 / figures[part]["ratio"]
        assert f"{part}, {figures[part]['share']:.1%} of the build" in printed
