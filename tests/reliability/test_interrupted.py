"""A build stopped by Ctrl-C, SIGTERM or SIGKILL leaves the last site byte-identical."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from benchmarks.corpus import write_corpus
from tests.conftest import run
from tests.reliability.helpers import leftovers, rendering, site_of, start_build, wait_until


@pytest.fixture
def built(project: Path) -> Path:
    write_corpus(project / "content", 200)
    assert run(["build"]).code == 0
    # Change every article, so that the next build renders everything again.
    for post in (project / "content").rglob("*.md"):
        post.write_text(post.read_text().replace("\n\n", "\n\nChanged.\n\n", 1))
    return project


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_build_leaves_the_last_site(built: Path, stop: signal.Signals) -> None:
    before = site_of(built)
    process = start_build(built, "--jobs", "1")
    wait_until(rendering(built))
    process.send_signal(stop)
    code = process.wait(timeout=60)
    _, err = process.communicate()
    assert code != 0
    assert "Traceback" not in err
    if stop != signal.SIGKILL:
        assert "interrupted; the previous site is untouched" in err
        assert leftovers(built) == []
    assert site_of(built) == before
    # The next build cleans up whatever the stopped one left, and finishes.
    assert run(["build"]).code == 0
    assert leftovers(built) == []
    assert site_of(built) != before


def test_a_build_killed_between_its_renames_gets_the_last_site_back(built: Path) -> None:
    before = site_of(built)
    # The state a SIGKILL leaves between "site -> .site.old" and ".site.building -> site".
    os.rename(built / "site", built / ".site.old")
    (built / ".site.building").mkdir()
    (built / ".site.building" / "half.html").write_text("<p>half")
    from broadsheet.publish.output_dir import recover

    recover(built / "site")
    assert site_of(built) == before and leftovers(built) == []


def test_a_build_killed_while_committing_is_completed_by_the_next(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from broadsheet.config import load_config
    from broadsheet.publish import output_dir
    from broadsheet.publish.pipeline import build
    from tests.sitecheck import tree_bytes

    before = site_of(built)
    real = output_dir._apply

    def die_halfway(output: Path, folder: Path, moves: list[str], removes: list[str]) -> None:
        real(output, folder, moves[: len(moves) // 2], [])  # then the power goes
        raise KeyboardInterrupt

    monkeypatch.setattr(output_dir, "_apply", die_halfway)
    with pytest.raises(KeyboardInterrupt):
        build(load_config(built), jobs=1)
    assert (built / ".site.journal").is_file()
    half = site_of(built)
    assert half != before  # a mix of old and new pages, for now
    monkeypatch.setattr(output_dir, "_apply", real)
    output_dir.recover(built / "site")  # what the next build does first
    assert leftovers(built) == []
    finished = site_of(built)
    build(load_config(built), output=built / "cold", use_cache=False, jobs=1)
    assert finished == tree_bytes(built / "cold")
