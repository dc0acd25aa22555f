"""Property: random `mv`s of random posts, in any order, leave every URL once published
answering (its article, or a redirect to it), and an incremental build equal to a cold one
after each step."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadsheet.config import load_config
from broadsheet.outputs.published import read_record
from broadsheet.publish.pipeline import build
from tests.conftest import REPO, run
from tests.sitecheck import tree_bytes

PYPROJECT = """\
[tool.broadsheet]
title = "Archive"
base_url = "https://example.github.io/archive/"

[tool.broadsheet.sections]
asia = "Asia"
america = "America"
europe = "Europe"
"""
POSTS = {
    "asia/a.md": "---\ntitle: Alpha\nsection: ASIA\ndate: 2025-01-01\n---\n\nAlpha text.\n",
    "asia/b.md": "---\ntitle: Beta\ndate: 2025-01-02\ntags: [x]\n---\n\nBeta text.\n",
    "america/c.md": "---\ntitle: Gamma\nslug: gee\ndate: 2025-01-03\n---\n\nGamma.\n",
    "europe/d.md": "---\ntitle: Delta\ndate: 2025-01-04\n---\n\nDelta.\n",
}
REDIRECT = re.compile(r'location\.replace\("/archive/([^"]*)"')

steps = st.lists(
    st.tuples(
        st.integers(0, len(POSTS) - 1),
        st.sampled_from([None, "a", "b", "gee", "new", "newer"]),
        st.sampled_from([None, "asia", "america", "europe"]),
    ).filter(lambda step: step[1] is not None or step[2] is not None),
    min_size=1,
    max_size=4,
)


def snapshot(content: Path) -> dict[str, bytes]:
    return {p.as_posix(): p.read_bytes() for p in content.rglob("*") if p.is_file()}


def answers(site: Path, url: str) -> bool:
    """Whether `url` is an article, or a redirect page to one."""
    page = site / url / "index.html"
    if not page.is_file():
        return False
    html = page.read_text(encoding="utf-8")
    found = REDIRECT.search(html)
    if found is None:
        return 'class="article-body"' in html
    target = site / found[1] / "index.html"
    return target.is_file() and 'class="article-body"' in target.read_text(encoding="utf-8")


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps)
def test_random_moves_keep_every_published_url_answering(moves: list[tuple]) -> None:  # type: ignore[type-arg]
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
        for name in ("templates", "static"):
            shutil.copytree(REPO / name, root / name)
        for relative, text in POSTS.items():
            (root / "content" / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / "content" / relative).write_text(text, encoding="utf-8")
        os.chdir(root)
        try:
            _walk(root, moves)
        finally:
            os.chdir(here)


def _walk(root: Path, moves: list[tuple]) -> None:  # type: ignore[type-arg]
    content = root / "content"
    paths = [content / relative for relative in POSTS]
    assert run(["build", "--quiet"]).code == 0
    ever = set(read_record(content).published)
    for index, slug, section in moves:
        before = snapshot(content)
        args = ["mv", str(paths[index].relative_to(root))]
        args += ["--slug", slug] if slug else []
        args += ["--section", section] if section else []
        result = run(args)
        if result.code != 0:  # refused (in the way, taken, nothing to move): nothing changed
            assert "Traceback" not in result.err
            assert snapshot(content) == before, result.err
            continue
        folder = content / (section or paths[index].parent.name)
        paths[index] = folder / (f"{slug}.md" if slug else paths[index].name)
        assert paths[index].is_file(), result.out
        built = run(["build", "--quiet"])
        assert built.code == 0, (args, built.err)
        ever |= set(read_record(content).published)
        lost = [url for url in sorted(ever) if not answers(root / "site", url)]
        assert lost == [], args
        build(load_config(root), output=root / "cold", use_cache=False, jobs=1)
        assert tree_bytes(root / "site") == tree_bytes(root / "cold"), args
