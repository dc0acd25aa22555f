"""The output folder is ours, or we do not touch it; links out of the project are refused."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.corpus import write_corpus
from tests.conftest import run, write_post
from tests.reliability.helpers import clean_build
from tests.sitecheck import tree_bytes


def snapshot(root: Path) -> dict[str, int]:
    return {str(p): p.stat().st_size for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "target", [".", "content", "templates", "static", "raw", "content/asia", ".."]
)
def test_sources_and_the_project_are_refused(seeded: Path, target: str) -> None:
    (seeded / "raw").mkdir(exist_ok=True)
    before = snapshot(seeded)
    result = run(["build", "--output", target])
    assert result.code == 1 and "refusing to build" in result.err
    assert snapshot(seeded) == before


def test_the_home_folder_and_the_root_are_refused(
    seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("mine")
    monkeypatch.setenv("HOME", str(home))
    for target in (str(home), "/"):
        result = run(["build", "--output", target])
        assert result.code == 1 and "refusing to build here" in result.err, target
    assert (home / "notes.txt").read_text() == "mine"


def test_a_folder_broadsheet_did_not_make_is_refused(seeded: Path) -> None:
    folder = seeded / "downloads"
    folder.mkdir()
    (folder / "thesis.pdf").write_bytes(b"%PDF precious")
    result = run(["build", "--output", "downloads"])
    assert result.code == 1 and "did not make" in result.err
    assert (folder / "thesis.pdf").read_bytes() == b"%PDF precious"


@pytest.mark.parametrize("kind", ["repository", "worktree"])
def test_a_git_checkout_made_of_the_site_is_refused_not_deleted(seeded: Path, kind: str) -> None:
    """A site/ made a checkout of a deploy branch (as some deploy by hand): the next
    build, even one with nothing to do, would replace the folder and its history."""
    assert run(["build"]).code == 0
    git = seeded / "site/.git"
    if kind == "repository":
        (git / "refs").mkdir(parents=True)
        (git / "HEAD").write_text("ref: refs/heads/gh-pages\n", encoding="utf-8")
    else:  # a worktree's .git is a file naming where its repository is
        git.write_text("gitdir: /elsewhere/.git/worktrees/site\n", encoding="utf-8")
    for args in (["build"], ["build", "--quiet"]):
        result = run(args)
        assert result.code == 1
        assert "site/.git: the output folder holds .git" in result.err
    assert os.path.lexists(git) and (seeded / "site/index.html").is_file()


def test_the_build_cache_is_refused_as_the_output(seeded: Path) -> None:
    for output in (".broadsheet-cache", ".broadsheet-cache/site"):
        result = run(["build", "--output", output])
        assert result.code == 1 and "refusing to build into the build cache" in result.err
    assert not (seeded / ".broadsheet-cache/site").exists()


def test_a_mount_point_is_refused_before_anything_is_made(
    seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build puts its new site in place of the output folder whole, which a mount
    point cannot be (EBUSY): it says so, and leaves no lock file or build cache."""
    from broadsheet.publish import output_dir

    www = seeded / "www"
    www.mkdir()
    real = os.path.ismount
    monkeypatch.setattr(output_dir.os.path, "ismount", lambda p: Path(p) == www or real(p))
    before = sorted(os.listdir(seeded))
    result = run(["build", "--output", "www"])
    assert result.code == 1 and "Traceback" not in result.err
    assert result.err.strip() == (
        "error: www: the output folder is a mount point, and a build puts a new site in "
        "place of the folder whole: build into a folder inside it (--output www/site)"
    )
    assert sorted(os.listdir(seeded)) == before and not any(www.iterdir())
    assert run(["build", "--output", "www/site"]).code == 0


def test_links_out_of_the_project_are_refused(seeded: Path, tmp_path: Path) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY")
    os.symlink(secret, seeded / "static" / "key.txt")
    outside = tmp_path / "elsewhere.md"
    outside.write_text("---\ntitle: Elsewhere\n---\n\nText\n")
    os.symlink(outside, seeded / "content" / "asia" / "elsewhere.md")
    result = run(["build"])
    assert result.code == 1
    assert "static/key.txt: is a link to" in result.err and "outside static/" in result.err
    assert "content/asia/elsewhere.md: is a link to" in result.err
    assert not (seeded / "site").exists()


def test_links_inside_the_project_are_fine(seeded: Path) -> None:
    write_post(seeded, "asia/original.md", "---\ntitle: Original\n---\n\nText\n")
    (seeded / "content/america/alias.md").symlink_to(seeded / "content/asia/original.md")
    result = run(["build"])
    assert result.code == 0, result.err
    assert (seeded / "site/america/alias/index.html").is_file()


# A build removes or moves only what it can prove it made. Whatever a user keeps at any
# name a build uses (or used to use) beside the output is left exactly as it was.
NAMES = (".{}.old", ".{}.building", ".{}.journal", ".{}.tmp", ".{}.lock", "{}")
KINDS = ("folder", "copy of the site", "file", "link", "empty folder")
PHASES = ("first build", "nothing to do", "a build to do")


def user_thing(path: Path, kind: str, data: bytes, site: Path, elsewhere: Path) -> None:
    """Put a user's `kind` of thing at `path`, beside (or instead of) `site`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path == site and site.is_dir():  # the site itself, its marker gone
        (site / ".broadsheet-output").unlink()
        kind = "folder"
    elif kind == "copy of the site" and site.is_dir():  # `cp -r site .site.old`, say
        shutil.copytree(site, path)
        kind = "folder"
    if kind in ("folder", "copy of the site"):
        (path / "notes").mkdir(parents=True, exist_ok=True)
        (path / "notes" / "mine.txt").write_bytes(data)
    elif kind == "file":
        path.write_bytes(data or b"x")
    elif kind == "link":
        elsewhere.mkdir(exist_ok=True)
        (elsewhere / "precious.txt").write_bytes(data)
        path.symlink_to(elsewhere, target_is_directory=True)
    else:
        path.mkdir()


def state_of(path: Path) -> object:
    """Everything about `path` that a user would miss: kind, bytes, link target."""
    if path.is_symlink():
        return ("link", os.readlink(path), state_of(path.resolve()))
    if path.is_dir():
        return {
            str(p.relative_to(path)): (p.read_bytes() if p.is_file() else os.readlink(p))
            for p in sorted(path.rglob("*"))
            if p.is_file() or p.is_symlink()
        } | {"(folders)": sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_dir())}
    return path.read_bytes() if path.exists() else None


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small project, built once: each example starts from a copy."""
    from tests.conftest import PYPROJECT, REPO

    root = tmp_path_factory.mktemp("ownership") / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "static", root / "static")
    write_corpus(root / "content", 6)
    return root


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(NAMES),
    kind=st.sampled_from(KINDS),
    phase=st.sampled_from(PHASES),
    outside=st.booleans(),
    data=st.binary(max_size=64),
)
def test_a_build_never_touches_what_it_did_not_make(
    templates: Path, name: str, kind: str, phase: str, outside: bool, data: bytes
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "project"
        shutil.copytree(templates, project)
        output = Path(scratch) / "x" / "notes" if outside else project / "site"
        args = ["build", "--output", str(output)] if outside else ["build"]
        with contextlib.chdir(project):
            if phase != "first build":
                assert run(args).code == 0
            if phase == "a build to do":
                post = next((project / "content").rglob("*.md"))
                post.write_text(post.read_text() + "\nOne more line.\n")
            where = output.parent / name.format(output.name)
            if where != output and where.exists():
                return  # the lock file of an earlier build: ours, not the user's
            user_thing(where, kind, data, output, Path(scratch) / "elsewhere")
            before = state_of(where)
            site_before = tree_bytes(output) if where != output and output.is_dir() else None
            result = run(args)
            assert "Traceback" not in result.err
            if where == output and kind == "empty folder" and phase == "first build":
                assert result.code == 0  # an empty folder is a fine place for a site
                assert tree_bytes(output) == clean_build(project, "clean")
                return
            assert state_of(where) == before, "the user's thing was touched"
            if where == output:  # refused, naming it (or, for a link, where it leads)
                assert result.code == 1 and display(output.resolve()) in result.err
                return
            if where.name.endswith((".building", ".lock")) and not (
                where.name.endswith(".building") and phase == "nothing to do"
            ):
                assert result.code == 1
                assert f"{where.name}: in the way" in result.err
                assert (tree_bytes(output) if output.is_dir() else None) == site_before
                return
            assert result.code == 0, result.err
            if where.name.endswith(".building"):
                assert f"warning: {display(where)}: Broadsheet did not make this" in result.err
            assert tree_bytes(output) == clean_build(project, "clean")


def display(path: Path) -> str:
    from broadsheet.errors import display_path

    return display_path(path)


def test_a_copy_of_the_site_named_like_a_set_aside_one_is_kept(project: Path) -> None:
    write_corpus(project / "content", 6)
    assert run(["build"]).code == 0
    shutil.copytree(project / "site", project / ".site.old")
    (project / ".site.old" / "mine.txt").write_text("precious")
    before = state_of(project / ".site.old")
    assert run(["build"]).code == 0  # nothing to do
    post = next((project / "content").rglob("*.md"))
    post.write_text(post.read_text() + "\nMore.\n")
    assert run(["build"]).code == 0  # something to do
    (project / ".broadsheet-cache").rename(project / "cache-aside")
    assert run(["build"]).code == 0  # a cold build, swapped in whole
    assert state_of(project / ".site.old") == before


def test_a_folder_beside_another_output_is_not_moved_into_place(
    project: Path, tmp_path: Path
) -> None:
    write_corpus(project / "content", 6)
    notes = tmp_path / "x" / ".notes.old"
    notes.mkdir(parents=True)
    (notes / "a.txt").write_text("mine")
    assert run(["build", "--output", str(tmp_path / "x" / "notes")]).code == 0
    assert (notes / "a.txt").read_text() == "mine"
    assert sorted(os.listdir(tmp_path / "x")) == [".notes.lock", ".notes.old", "notes"]


_LIMITED = """
import resource, runpy, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]),) * 2)
sys.argv = ["broadsheet", *sys.argv[2:]]
runpy.run_module("broadsheet", run_name="__main__")
"""


def test_a_page_that_cannot_be_written_is_named_as_the_sites_file(seeded: Path) -> None:
    """A full disk while pages are written: the error names the page in site/, where
    the user looks, not in the hidden stage it was being written to."""
    assert run(["build"]).code == 0
    before = tree_bytes(seeded / "site")
    shutil.rmtree(seeded / ".broadsheet-cache")
    command = [sys.executable, "-c", _LIMITED, "3000", "build"]
    result = subprocess.run(command, cwd=seeded, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.startswith("error: site/"), result.stderr
    assert ".site.building" not in result.stderr and "Traceback" not in result.stderr
    assert tree_bytes(seeded / "site") == before
