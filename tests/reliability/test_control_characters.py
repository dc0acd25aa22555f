"""Control characters in a post: removed from every page and feed, and `check` says so.

Whatever a post holds (every C0 and C1 control, DEL, U+FFFE/U+FFFF and the other
noncharacters, lone surrogates made by YAML escapes, character references to any of
them), every XML output stays well-formed to a strict parser, no HTML page carries them,
and `check` warns, naming path:line, that they were removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadsheet.cli import main
from broadsheet.text import UNSHOWABLE
from tests.conftest import PYPROJECT, REPO, run, write_post
from tests.sitecheck import tree_bytes
from tests.tools import assert_valid

CONTROLS = [chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]]
NONCHARACTERS = ["\ufffe", "\uffff", "\ufdd0", "\ufdef", "\U0001fffe", "\U0010ffff"]
REFERENCES = ["&#1;", "&#x1b;", "&#X0C;", "&#0;", "&#13;", "&#x85;", "&#xFFFE;", "&#xD800;"]
# Left in: what every page and feed may hold.
FINE = ["\t", "\u00a0", "\u2028", "\U0001f600", "&#65;", "&#x10FFFD;", "\u00e9"]
# What no output may hold, as text or as a reference that a browser would decode.
BAD_REFERENCE = re.compile(
    rb"&#(?:[xX]0*(?:[0-8bBcC]|1[0-9a-fA-F]|7[fF]|[89][0-9a-fA-F]|[dD][89a-fA-F][0-9a-fA-F]{2}"
    rb"|[fF]{3}[eEfF]|[dD])|0*(?:[0-8]|1[1-9]|2[0-9]|3[01]|12[7-9]|1[3-5][0-9]|13|65534|65535));"
)

BODY_TEXT = st.lists(
    st.sampled_from(CONTROLS + NONCHARACTERS + REFERENCES + FINE + ["\n", "\n\n", "*", "`"])
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=8),
    max_size=30,
).map("".join)


def yaml_escape(text: str) -> str:
    """A YAML double-quoted scalar whose escapes make exactly `text` (lone surrogates too)."""
    return (
        '"'
        + "".join(f"\\U{ord(c):08x}" if ord(c) > 0xFFFF else f"\\u{ord(c):04x}" for c in text)
        + '"'
    )


# libyaml refuses the escapes of lone surrogates (a path:line error, tested below).
VALUE_TEXT = st.lists(
    st.sampled_from([*CONTROLS, *NONCHARACTERS, *FINE])
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=5),
    max_size=8,
).map("".join)


@contextlib.contextmanager
def new_project() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary) / "project"
        root.mkdir()
        (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
        shutil.copytree(REPO / "templates", root / "templates")
        shutil.copytree(REPO / "static", root / "static")
        write_post(root, "asia/plain.md", "---\ntitle: Plain\ndate: 2025-01-02\n---\n\nText.\n")
        before = Path.cwd()
        os.chdir(root)
        try:
            yield root
        finally:
            os.chdir(before)


def assert_outputs_clean(site: dict[str, bytes]) -> None:
    for name, data in site.items():
        if name.endswith(".xml"):
            ET.fromstring(data)  # expat: strict about every character XML forbids
        if name.endswith((".html", ".xml", ".json")):
            text = data.decode("utf-8")
            assert UNSHOWABLE.search(text) is None, (name, UNSHOWABLE.search(text))
            assert BAD_REFERENCE.search(data) is None, (name, BAD_REFERENCE.search(data))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    body=BODY_TEXT,
    title=VALUE_TEXT,
    author=VALUE_TEXT,
    tag=VALUE_TEXT,
    summary=VALUE_TEXT,
)
def test_any_text_gives_well_formed_feeds_and_clean_pages(
    body: str, title: str, author: str, tag: str, summary: str
) -> None:
    post = (
        f"---\ntitle: {yaml_escape('T' + title)}\ndate: 2025-01-03\n"
        f"author: {yaml_escape('A' + author)}\ntags: [{yaml_escape('t' + tag)}]\n"
        f"summary: {yaml_escape('S' + summary)}\n---\n\nStart {body}\n"
    )
    with new_project() as root:
        (root / "content/asia/odd.md").write_text(post, encoding="utf-8")
        with contextlib.redirect_stdout(None), contextlib.redirect_stderr(None):
            assert main(["build", "--quiet"]) == 0
        assert_outputs_clean(tree_bytes(root / "site"))
        checked = run(["check"])
        assert checked.code == 0, checked
        removed = any(UNSHOWABLE.search(v) for v in (body, title, author, tag, summary))
        removed = removed or any(r in body for r in REFERENCES)
        warned = [line for line in checked.out.splitlines() if "removed" in line]
        assert bool(warned) == removed, (checked.out, post)
        for line in warned:
            assert re.match(r"content/asia/odd\.md:\d+: warning: ", line), line


def test_the_issue_case_every_control_in_body_title_and_author(project: Path) -> None:
    body = "".join(CONTROLS).replace("\n", "").replace("\r", "")
    write_post(
        project,
        "asia/controls.md",
        '---\ntitle: "Bad \\x01 title"\nauthor: "A\\x01B"\n---\n\n'
        f"Text \x1b[31m red \x0c page \x08 back.\n\nAll: {body} {''.join(NONCHARACTERS)}\n",
    )
    assert run(["build"]).code == 0
    site = tree_bytes(project / "site")
    assert_outputs_clean(site)
    page = site["asia/controls/index.html"].decode()
    assert "Bad  title" in page and "[31m red  page  back." in page
    checked = run(["check"])
    assert checked.code == 0
    assert "content/asia/controls.md:2: warning: removed U+0001" in checked.out
    assert "content/asia/controls.md:3: warning: removed U+0001" in checked.out
    assert "content/asia/controls.md:6: warning: removed U+0008, U+000C, U+001B" in checked.out
    assert "content/asia/controls.md:8: warning: removed U+0000" in checked.out


def test_pages_with_control_characters_pass_the_nu_checker(project: Path) -> None:
    write_post(
        project,
        "asia/controls.md",
        '---\ntitle: "T\\x01\\x7f\\u0085"\nauthor: "A\\x1b"\ntags: ["x\\x02"]\n---\n\n'
        f"Body {''.join(CONTROLS)} {''.join(NONCHARACTERS)} {' '.join(REFERENCES)}\n\n"
        f"`code \x1b &#1;`\n\n    block \x0c\n",
    )
    assert run(["build"]).code == 0
    pages = [project / "site/asia/controls/index.html", project / "site/index.html"]
    pages.append(project / "site/tags/x/index.html")
    assert_valid(pages, timeout=300)


def test_a_lone_surrogate_in_front_matter_is_removed_or_a_yaml_error(project: Path) -> None:
    """libyaml refuses "\\ud800" as a path:line error; the pure-Python parser takes it,
    and then it is removed like any other."""
    write_post(project, "asia/surrogate.md", '---\ntitle: T\nsummary: "S\\ud800"\n---\n\nx\n')
    result = run(["build"])
    if result.code == 1:
        assert "content/asia/surrogate.md:3: front matter is not valid YAML" in result.err
    else:
        assert_outputs_clean(tree_bytes(project / "site"))


def test_a_control_character_in_a_setting_is_an_error(project: Path) -> None:
    settings_file = project / "pyproject.toml"
    settings_file.write_text(settings_file.read_text().replace('"Test Archive"', '"Test\\u0001"'))
    result = run(["build"])
    assert result.code == 1
    line = settings_file.read_text().split("\n").index('title = "Test\\u0001"') + 1
    assert (
        f"pyproject.toml:{line}: [tool.broadsheet] title holds the control character U+0001"
    ) in result.err


def test_a_lone_carriage_return_reads_the_same_both_ways(project: Path) -> None:
    """Old Mac line endings, or one stray "\\r": the post's header and its body (read
    again when a page needs it) must see the same lines, or every build failed with
    "the file changed during the build"."""
    post = project / "content/asia/cr.md"
    post.parent.mkdir(parents=True)
    post.write_bytes(b"---\rtitle: CR\r\n---\r\rOne\rtwo\r\n\r\nThree \x1b.\r")
    assert run(["build"]).code == 0
    page = (project / "site/asia/cr/index.html").read_text()
    assert "<p>One\ntwo</p>" in page and "<p>Three .</p>" in page
    checked = run(["check"])
    assert checked.code == 0 and "content/asia/cr.md:8: warning: removed U+001B" in checked.out
