"""Which Broadsheet built a cache: its version follows its code, and a build by another
Broadsheet trusts neither the cache nor the state beside it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from broadsheet.config import load_config
from broadsheet.publish.pipeline import build
from broadsheet.sealed import write_sealed
from tests.conftest import REPO, write_post
from tests.sitecheck import tree_bytes

ASK = """
import sys
from pathlib import Path
from broadsheet.codeversion import code_version
print(code_version(None if sys.argv[1] == "-" else Path(sys.argv[1])))
"""


def _version(package: Path, memo: Path | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", ASK, str(memo) if memo is not None else "-"],
        env={"PYTHONPATH": str(package), "PATH": "/usr/bin:/bin"},
        cwd=package,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_the_version_follows_the_code_and_the_memo_never_hides_a_change(tmp_path: Path) -> None:
    package = tmp_path / "installed"
    shutil.copytree(
        REPO / "broadsheet", package / "broadsheet", ignore=shutil.ignore_patterns("__pycache__")
    )
    memo = tmp_path / "cache"
    memo.mkdir()
    first = _version(package)
    assert first.startswith("0.1.0+") and _version(package, memo) == first
    assert _version(package, memo) == first  # (from the memo now)
    module = package / "broadsheet/render/markdown.py"
    original = module.read_text(encoding="utf-8")
    module.write_text(original.replace('"toc"', '"toc" ', 1), encoding="utf-8")  # a change
    changed = _version(package, memo)
    assert changed != first and _version(package) == changed
    module.write_text(original, encoding="utf-8")
    assert _version(package, memo) == first  # the same code, anywhere, the same version


def test_a_build_by_another_broadsheet_is_cold_and_its_own(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upgrade that changes how articles render: the next build, with nothing edited,
    is the new code's cold build (the old cache would have kept every page as it was)."""
    from broadsheet.render import markdown

    write_post(project, "asia/a.md", "---\ntitle: A\ndate: 2024-01-02\n---\n\nText *here*.\n")
    config = load_config(project)
    build(config, project / "site")
    state = next((project / ".broadsheet-cache").glob("state-*"))
    stray = state / "posts" / "left-by-the-old-code"
    stray.write_text("?", encoding="utf-8")

    render = markdown.render_markdown

    def upgraded(*args: object, **kwargs: object) -> markdown.RenderedBody:
        body = render(*args, **kwargs)  # type: ignore[arg-type]
        return replace(body, html=body.html.replace("<em>", '<em class="new">'))

    monkeypatch.setattr("broadsheet.codeversion._known", "0.1.0+upgraded")
    for user in ("broadsheet.publish.context", "broadsheet.publish.prerender"):
        monkeypatch.setattr(f"{user}.render_markdown", upgraded)
    result = build(config, project / "site")
    assert result.written == result.pages and not stray.exists()
    assert '<em class="new">' in (project / "site/asia/a/index.html").read_text()
    build(config, tmp_path / "cold", use_cache=False)
    assert tree_bytes(project / "site") == tree_bytes(tmp_path / "cold")


def test_another_python_is_another_broadsheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A venv kept across an upgrade of its Python: the memo is not taken for it."""
    from broadsheet import codeversion

    modules = codeversion._modules()
    stamps = codeversion._stamps(modules)
    memo = tmp_path / codeversion.MEMO
    write_sealed(memo, orjson.dumps({"stamps": stamps, "version": "0.1.0+old"}))
    assert codeversion._remembered(memo, codeversion._stamps(modules)) == "0.1.0+old"
    monkeypatch.setattr(sys, "version", sys.version + " (patched)")
    assert codeversion._remembered(memo, codeversion._stamps(modules)) is None


def _tzif(name: str) -> bytes:
    """The rules of zone `name`, as zoneinfo finds them (the system's, or tzdata's)."""
    import zoneinfo
    from importlib import resources

    for folder in zoneinfo.TZPATH:
        path = Path(folder, name)
        if path.is_file():
            return path.read_bytes()
    return resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).read_bytes()


def test_new_rules_for_the_sites_time_zone_rebuild_what_they_change(
    project: Path, tmp_path: Path
) -> None:
    """A tzdata update that moves a zone's offset: the next build is as a cold build
    with the new rules, not a build that finds nothing to do."""
    settings = project / "pyproject.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace(
            "[tool.broadsheet]\n", '[tool.broadsheet]\ntimezone = "America/New_York"\n', 1
        ),
        encoding="utf-8",
    )
    write_post(project, "asia/a.md", "---\ntitle: A\ndate: 2025-03-20 19:00\n---\n\nText.\n")
    rules = {}
    for label, zone in (("old", "America/New_York"), ("new", "America/Chicago")):
        folder = tmp_path / label / "America"
        folder.mkdir(parents=True)
        (folder / "New_York").write_bytes(_tzif(zone))  # (Chicago's: an hour later)
        rules[label] = str(tmp_path / label)

    def built(where: str, output: Path) -> None:
        env = {**os.environ, "PYTHONTZPATH": where, "SOURCE_DATE_EPOCH": "1767225600"}
        command = [sys.executable, "-m", "broadsheet", "build", "--quiet", "--output", output]
        done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    built(rules["old"], project / "site")
    page = (project / "site/asia/a/index.html").read_text(encoding="utf-8")
    assert "2025-03-20T19:00:00-04:00" in page
    built(rules["new"], project / "site")
    shutil.copytree(project, tmp_path / "cold", ignore=shutil.ignore_patterns("site", ".broad*"))
    built(rules["new"], tmp_path / "cold/site")
    assert tree_bytes(project / "site") == tree_bytes(tmp_path / "cold/site")
    assert "2025-03-20T19:00:00-05:00" in (project / "site/asia/a/index.html").read_text()
