"""The importer, fuzzed: any sections, headlines and Unicode paragraphs, and truncated
files. Import plus build never crash; every paragraph comes out verbatim, as text."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadsheet.config import load_config
from broadsheet.errors import BroadsheetError
from broadsheet.ingest.importer import import_files
from broadsheet.publish.pipeline import build
from tests.conftest import PYPROJECT, REPO
from tests.sitecheck import article_pages, page_text, scan
from tests.test_roundtrip import ARTICLE, fold, raw_file

LABELS = (
    st.text(alphabet=st.characters(categories=("Lu",)), min_size=1, max_size=12)
    .map(lambda s: s.strip())
    .filter(bool)
)


@pytest.fixture(scope="module")
def workspace() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="broadsheet-fuzz-"))
    (root / "pyproject.toml").write_text(PYPROJECT.replace("asia", "x-asia"), encoding="utf-8")
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "static", root / "static")
    yield root
    shutil.rmtree(root)


def fresh(workspace: Path) -> Path:
    content = workspace / "content"
    shutil.rmtree(content, ignore_errors=True)
    content.mkdir()
    return content


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(LABELS, ARTICLE.map(lambda a: a[1]), ARTICLE.map(lambda a: a[2])),
        min_size=1,
        max_size=3,
    )
)
def test_unicode_sections_and_text_survive_import_and_build(
    workspace: Path, articles: list[tuple[str, str, list[str]]]
) -> None:
    content = fresh(workspace)
    raw = workspace / "raw.txt"
    raw.write_text(raw_file(articles), encoding="utf-8")
    import_files([raw], content)
    build(load_config(workspace), output=workspace / "site", use_cache=False, jobs=1)
    pages = article_pages(workspace / "site")
    texts = [page_text(html) for html in pages.values()]
    for _label, title, paragraphs in articles:
        assert any(fold(title) in t and all(fold(p) in t for p in paragraphs) for t in texts)
    for html in pages.values():
        body = html.split('<div class="article-body">', 1)[1].split("</div>\n</article>", 1)[0]
        assert set(scan(body).tags) <= {"p", "h2"}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(ARTICLE, min_size=1, max_size=3), st.floats(min_value=0, max_value=1))
def test_a_truncated_file_imports_what_it_holds_or_fails_cleanly(
    workspace: Path, articles: list[tuple[str, str, list[str]]], cut: float
) -> None:
    content = fresh(workspace)
    data = raw_file(articles).encode("utf-8")
    raw = workspace / "raw.txt"
    raw.write_bytes(data[: int(len(data) * cut)])  # may split a character in two
    try:
        import_files([raw], content)
    except BroadsheetError as exc:
        assert str(exc).startswith(str(raw)) and "not UTF-8" in str(exc)
        assert not list(content.rglob("*.md"))  # nothing half-written
        return
    build(load_config(workspace), output=workspace / "site", use_cache=False, jobs=1)
    for post in content.rglob("*.md"):
        assert re.search(r"^title: ", post.read_text(encoding="utf-8"), re.M)


def _raw(tag: str, count: int, teaser: bool = False, label: str = "ASIA") -> str:
    blocks = ["Connect with us"]
    for n in range(count):
        blocks += [label if n else "ASIA", f"Talks resume {n}", "Published", "on"]
        blocks += [f"Story {tag}{n} opens here.", "MOST READ"]  # a paragraph, not the widget
        blocks += [] if teaser else [f"Story {tag}{n} goes on."]
        blocks += ["Continue Reading"] if teaser else []
    return "\n\n".join([*blocks, "MOST READ", "Turkey"]) + "\n"


def test_random_interleavings_of_import_and_build(project: Path) -> None:
    """Imports (one of a file that is not UTF-8, one of a section that cannot be) and
    builds started at random moments, all at once: no traceback, no article lost, the
    failed imports change nothing, and every build shows whole imports, never half of one."""
    (project / "a.txt").write_text(_raw("A", 5), encoding="utf-8")
    (project / "b.txt").write_text(_raw("B", 5), encoding="utf-8")
    (project / "t.txt").write_text(_raw("A", 1, teaser=True), encoding="utf-8")
    (project / "bad.txt").write_bytes(_raw("X", 2).encode() + b"caf\xe9\n")
    (project / "tags.txt").write_text(_raw("Y", 2, label="TAGS"), encoding="utf-8")
    a = {f"A{n}" for n in range(5)}
    b = {f"B{n}" for n in range(5)}
    whole = [set(), {"A0"}, a, b, a | b, b | {"A0"}]  # what builds may show
    rng = random.Random(1604)
    for _ in range(3):
        shutil.rmtree(project / "content")
        (project / "content").mkdir()
        jobs = [["import", n] for n in ("a.txt", "b.txt", "t.txt", "bad.txt", "tags.txt")]
        jobs += [["build", "--jobs", "1"], ["build", "--jobs", "1"]]
        rng.shuffle(jobs)
        processes = []
        for job in jobs:
            time.sleep(rng.random() * 0.05)
            processes.append(
                (
                    job,
                    subprocess.Popen(
                        [sys.executable, "-m", "broadsheet", *job],
                        cwd=project,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    ),
                )
            )
        for job, process in processes:
            _, err = process.communicate(timeout=300)
            assert "Traceback" not in err, err
            if job[-1] == "bad.txt":
                assert process.returncode == 1 and "bad.txt:" in err and "not UTF-8" in err
            elif job[-1] == "tags.txt":
                assert process.returncode == 1 and "tags.txt:" in err and "section 'TAGS'" in err
            else:
                assert process.returncode == 0, (job, err)
            if job[0] == "build":
                shown = {
                    m
                    for html in article_pages(project / "site").values()
                    for m in re.findall(r"Story ([AB]\d) opens", page_text(html))
                }
                assert shown in whole, shown
        texts = [p.read_text(encoding="utf-8") for p in (project / "content").rglob("*.md")]
        assert len(texts) == 10
        assert {m for t in texts for m in re.findall(r"Story ([ABXY]\d) goes on", t)} == a | b
        assert not list((project / "content").glob(".import-*"))
