"""The output check that decides whether the build cache can be trusted: in this
process or in a forked one, it answers the same."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from broadsheet.publish.cache import OutputCheck, stamp_tree


def _site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "asia/a-story").mkdir(parents=True)
    (site / "index.html").write_text("<p>latest</p>")
    (site / "asia/a-story/index.html").write_text("<p>a story</p>")
    return site


CHANGES = {
    "nothing": lambda site: None,
    "a page edited": lambda site: (site / "asia/a-story/index.html").write_text("<p>hand</p>"),
    "a page deleted": lambda site: (site / "index.html").unlink(),
    "a file added": lambda site: (site / "asia/stray.html").write_text("stray"),
    "the site gone": lambda site: shutil.rmtree(site),
}


@pytest.mark.parametrize("forked", [True, False], ids=["forked", "in process"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_the_output_check_finds_any_change_to_the_output(
    tmp_path: Path, change: str, forked: bool
) -> None:
    site = _site(tmp_path)
    check = OutputCheck(site, stamp_tree(site))
    CHANGES[change](site)
    with check:
        if forked:
            check.start()
            assert check._pid is not None  # a forked process answers
        assert check.holds() is (change == "nothing")
        assert check.holds() is (change == "nothing")  # asked again: the same answer
    assert check._pid is None


def test_a_missing_output_folder_does_not_hold(tmp_path: Path) -> None:
    check = OutputCheck(tmp_path / "nowhere", {})
    check.start()
    assert not check.holds()


def test_the_forked_check_is_never_left_behind(tmp_path: Path) -> None:
    site = _site(tmp_path)
    with pytest.raises(RuntimeError), OutputCheck(site, stamp_tree(site)) as check:
        check.start()
        pid = check._pid
        raise RuntimeError("the build failed meanwhile")
    assert pid is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped


@pytest.mark.parametrize("stamp", [[1], [1, "2"], [1, 2, 3], "12", [1.5, 2], [True, 2], None])
def test_a_cache_with_a_malformed_stamp_is_not_loaded(tmp_path: Path, stamp: object) -> None:
    import json

    from broadsheet.publish.cache import BuildCache, load_cache, save_cache

    path = tmp_path / "build.json"
    save_cache(path, BuildCache(inputs={"content/a.md": (1, 2)}, output={"index.html": (3, 4)}))
    assert load_cache(path) is not None
    for key in ("inputs", "output"):
        data = json.loads(path.read_text())
        data[key] = {**data[key], "x": stamp}
        (tmp_path / "bad.json").write_text(json.dumps(data))
        assert load_cache(tmp_path / "bad.json") is None, key


def test_a_check_process_killed_before_it_answers_is_asked_again_here(tmp_path: Path) -> None:
    site = _site(tmp_path)
    parent = os.getpid()

    class Slow(OutputCheck):
        def _check(self) -> bool:
            if os.getpid() != parent:  # the forked process: killed before it answers
                signal.pause()
            return super()._check()

    with Slow(site, stamp_tree(site)) as check:
        check.start()
        assert check._pid is not None
        os.kill(check._pid, signal.SIGKILL)  # the out-of-memory killer, say
        assert check.holds()  # unchanged: the cache is still trusted
