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
    from broadsheet.build.output_dir import recover

    recover(built / "site")
    assert site_of(built) == before and leftovers(built) == []
