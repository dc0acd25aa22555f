"""Serve's builds are the real build, in a process of their own: whatever a build does
(raises, dies, hangs), the builder reports it, and the next build recovers."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from broadsheet.serve import devbuild
from broadsheet.serve.devbuild import DevBuilder, DevResult
from tests.conftest import write_post
from tests.serve.faults import fault_env

URL = "http://127.0.0.1:8000/"


@pytest.fixture
def fault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file naming the fault the next builds meet (none while it is empty)."""
    path = tmp_path / "fault"
    path.write_text("", encoding="utf-8")
    env = fault_env(tmp_path / "faults", path)
    for name in ("PYTHONPATH", "BROADSHEET_TEST_FAULT"):
        monkeypatch.setenv(name, env[name])
    return path


@pytest.fixture
def builder(project: Path, tmp_path: Path) -> DevBuilder:
    write_post(project, "asia/rice.md", "---\ntitle: Rice\ndate: 2024-02-09\n---\n\nRice.\n")
    write_post(project, "asia/tea.md", "---\ntitle: Tea\ndraft: true\n---\n\nTea.\n")
    dev = DevBuilder(project, tmp_path / "serve/site", {"base_url": URL})
    yield dev
    dev.close()


def page(dev: DevBuilder, path: str = "asia/index.html") -> str:
    return (dev.output / path).read_text(encoding="utf-8")


def test_serve_builds_drafts_with_its_base_url(builder: DevBuilder) -> None:
    result = builder.rebuild()
    assert result.ok, result.error
    assert "Tea" in page(builder) and "Draft" in page(builder, "asia/tea/index.html")
    assert f'<link rel="canonical" href="{URL}asia/">' in page(builder)


def test_a_failure_shows_until_a_build_succeeds(
    builder: DevBuilder, fault: Path, project: Path
) -> None:
    # (Each kind of failure, through the real server: tests/serve/test_recovery.py.)
    fault.write_text("RuntimeError")
    failed = builder.rebuild()
    assert not failed.ok and "RuntimeError: injected fault" in failed.error
    assert builder.error == failed.error
    fault.write_text("")
    write_post(project, "asia/rice.md", "---\ntitle: Rice again\n---\n\nRice.\n")
    fixed = builder.rebuild()
    assert fixed.ok and builder.error is None and "Rice again" in page(builder)


def test_a_stuck_build_is_stopped_at_its_bound(
    builder: DevBuilder, fault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(devbuild, "MINIMUM_BOUND", 2.0)
    monkeypatch.setattr(devbuild, "SECONDS_PER_FILE", 0.0)
    fault.write_text("hang")  # (the first build is cold: it plans, and meets the fault)
    result = builder.rebuild()
    assert not result.ok and "did not finish within 2 s" in result.error
    stuck = int(fault.with_suffix(".pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(stuck, 0)  # stopped, and not left behind
    fault.write_text("")
    assert builder.rebuild().ok


def test_a_newer_save_stops_a_stuck_build(
    builder: DevBuilder, fault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(devbuild, "STUCK_AFTER", 0.2)
    fault.write_text("hang")
    results: list[DevResult] = []
    running = threading.Thread(target=lambda: results.append(builder.rebuild()))
    running.start()
    while not builder.stop_if_stuck():  # what the watcher does on each save
        assert running.is_alive()
        running.join(0.05)
    running.join(30)
    assert results and results[0].stopped and not results[0].ok
    assert builder.error is None  # a stopped build is no error to show
    fault.write_text("")
    assert builder.rebuild().ok


def test_serve_leaves_nothing_in_the_project(builder: DevBuilder, project: Path) -> None:
    before = sorted(str(p.relative_to(project)) for p in project.rglob("*"))
    assert builder.rebuild().ok
    write_post(project, "asia/rice.md", "---\ntitle: Rice again\n---\n\nRice.\n")
    assert builder.rebuild().ok
    after = sorted(str(p.relative_to(project)) for p in project.rglob("*"))
    assert after == before and not (project / ".broadsheet-cache").exists()


def test_a_bad_post_is_an_error_naming_it_and_fixing_it_recovers(
    builder: DevBuilder, project: Path
) -> None:
    post = write_post(project, "asia/rice.md", "---\ntitle: [oops\n---\n\nRice.\n")
    broken = builder.rebuild()
    assert not broken.ok
    assert "content/asia/rice.md:2: front matter is not valid YAML" in broken.error
    assert "Traceback" not in broken.error
    post.write_text("---\ntitle: Rice fixed\n---\n\nRice.\n")
    assert builder.rebuild().ok and "Rice fixed" in page(builder)


def test_one_build_process_serves_build_after_build(builder: DevBuilder, project: Path) -> None:
    assert builder.rebuild().ok
    worker = builder._worker
    assert worker is not None and worker.alive()  # ready for the next build
    for n in range(3):
        write_post(project, "asia/rice.md", f"---\ntitle: Rice {n}\n---\n\nRice.\n")
        assert builder.rebuild().ok and f"Rice {n}" in page(builder)
    assert builder._worker is worker and worker.builds == 4
    builder.close()
    assert worker.process.wait(timeout=10) != 0
    assert not builder.rebuild().ok  # a closed builder builds no more
