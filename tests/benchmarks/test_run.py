"""A small run of the benchmark script: it builds with all three tools and reports JSON."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.tools import missing

KEYS = {
    "broadsheet_cold_s",
    "broadsheet_noop_s",
    "broadsheet_edit_s",
    "broadsheet_headline_s",
    "broadsheet_deploy_s",
    "broadsheet_peak_mb",
    "hugo_cold_s",
    "hugo_peak_mb",
    "pelican_cold_s",
}


def test_the_benchmark_runs_on_50_articles(tmp_path: Path) -> None:
    for module in ("hugo", "pelican"):
        if importlib.util.find_spec(module) is None:
            missing(module, "pip install -e '.[test]'")
    out = tmp_path / "results.json"
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks/run.py"),
            "--articles",
            "50",
            "--runs",
            "1",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert set(figures) >= KEYS
    assert all(figures[key] > 0 for key in KEYS)
    assert figures["broadsheet_noop_s"] < figures["broadsheet_cold_s"]
    assert "broadsheet_cold" in result.stdout and "/ Hugo" in result.stdout
