"""The compiled loops (broadsheet/search/_native.c) give what their Python twins give, to
the byte, and the install builds them wherever a C compiler is found."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from array import array
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import broadsheet.search.index as index_module
import broadsheet.search.terms as terms_module
from broadsheet.search.index import _Postings, add_postings_python
from broadsheet.search.terms import _folded, _joined, count, count_words_python, text_of
from tests.search.test_index import VOCABULARY, doc, index, stored, tree


def _compiler() -> str | None:
    command = (sysconfig.get_config_var("CC") or "cc").split()
    return shutil.which(command[0]) if command else None


def test_the_install_built_the_compiled_loops() -> None:
    # `pip install -e .` builds them where it finds a C compiler (setup.py: optional);
    # without one the build goes on in Python, a sixth slower to count (that is the
    # only difference). CI has one: a build that silently fell back fails here.
    if _compiler() is None:
        pytest.skip("no C compiler: the Python twins run")
    from broadsheet.search import _native

    assert terms_module.count_words is _native.count_words
    assert index_module.add_postings is _native.add_postings


def test_an_install_without_a_c_compiler_goes_on_without_them(tmp_path: Path) -> None:
    # The README: "Without one it goes on without it". A wheel built from a copy of the
    # project, with CC naming no program, holds the modules and no compiled one.
    source = tmp_path / "source"
    root = Path(__file__).resolve().parents[2]
    for name in ("pyproject.toml", "setup.py", "README.md"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / name, source / name)
    shutil.copytree(
        root / "broadsheet", source / "broadsheet", ignore=shutil.ignore_patterns("*.so", "__py*")
    )
    environment = dict(os.environ, CC="/nonexistent/cc", LDSHARED="/nonexistent/cc -shared")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [wheel] = tmp_path.glob("broadsheet-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "broadsheet/search/terms.py" in names
    assert not [name for name in names if name.endswith((".so", ".pyd"))]


def _loops():  # type: ignore[no-untyped-def]
    return pytest.importorskip("broadsheet.search._native")


# Text as a page may hold it: words in several scripts, digits of other systems,
# marks, apostrophes, dots, spaces of every kind, symbols, and characters beyond the
# Basic Multilingual Plane (four bytes a character in a str).
_PIECES = st.sampled_from(
    [
        "a",
        "Z",
        "9",
        "é",
        "ß",
        "İ",
        "Σ",
        "ς",
        "ж",
        "中",
        "文",
        "ا",
        "٣",
        "²",
        "½",
        "Ⅻ",
        "ª",
        "\u0301",
        "\u200d",
        "\xad",
        "’",
        "'",
        ".",
        "-",
        "_",
        " ",
        "\n",
        "\xa0",
        "\u3000",
        "€",
        "£",
        "·",
        "“",
        "🙂",
        "𝐀",
        "𝟗",
        "\U00020000",
        "\ufffd",
        "\x00",
    ]
)
_TEXTS = st.one_of(st.text(), st.lists(_PIECES, max_size=60).map("".join))


@given(_TEXTS)
@example("")
@example("the cat the cat sat")
@example("déjà vu, vu; DÉJÀ")
@example("a" * 70 + " " + "a" * 71)  # (two words, one term: both cut to MAX_TERM)
def test_counting_words_agrees_with_python(text: str) -> None:
    loops = _loops()
    for given_text in (text, _joined(_folded(text))):
        want = count_words_python(given_text, terms_module._STEMS)
        got = loops.count_words(given_text, terms_module._STEMS)
        assert got == want
        assert list(got[0]) == list(want[0])  # (the same order: first met, first listed)


def test_counting_words_of_many_pages_agrees_with_python() -> None:
    loops = _loops()
    rng = random.Random(5)
    words = [*VOCABULARY, "Pakistan’s", "U.S.", "naïve", "Ελλάδα", "東京", "₂", "x²"]
    for _ in range(300):
        html = "<p>" + " ".join(rng.choices(words, k=rng.randint(0, 400))) + "</p>"
        text = _joined(_folded(text_of(html)))
        assert loops.count_words(text, terms_module._STEMS) == count_words_python(
            text, terms_module._STEMS
        )


def test_a_stem_that_fails_raises_as_in_python() -> None:
    loops = _loops()

    class Failing(dict[str, str]):
        def __missing__(self, word: str) -> str:
            raise LookupError(word)

    with pytest.raises(LookupError, match="zebra"):
        loops.count_words("zebra", Failing())
    with pytest.raises(TypeError):
        loops.count_words(b"zebra", {})


@given(
    st.lists(
        st.dictionaries(st.sampled_from(VOCABULARY), st.integers(1, 2**32 - 1), max_size=20),
        max_size=20,
    )
)
def test_adding_postings_agrees_with_python(articles: list[dict[str, int]]) -> None:
    loops = _loops()
    compiled, twin = _Postings(), _Postings()
    for number, counts in enumerate(articles):
        loops.add_postings(compiled, number, counts)
        add_postings_python(twin, number, counts)
    assert list(compiled) == list(twin)
    assert {t: bytes(p) for t, p in compiled.items()} == {t: bytes(p) for t, p in twin.items()}
    assert all(isinstance(p, bytearray) for p in compiled.values())
    assert all(isinstance(p, array) for p in twin.values())


def test_a_count_or_number_beyond_32_bits_is_refused_as_in_python() -> None:
    loops = _loops()
    for number, counts in [(0, {"a": 2**32}), (2**32, {"a": 1}), (0, {"a": -1})]:
        with pytest.raises(OverflowError):
            add_postings_python(_Postings(), number, counts)
        with pytest.raises(OverflowError):
            loops.add_postings(_Postings(), number, counts)


def test_an_index_without_the_compiled_loops_is_the_same_to_the_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _loops()
    rng = random.Random(11)
    words = [*VOCABULARY, "Pakistan’s", "U.S.", "naïve", "Ελλάδα", "東京"]
    texts = {
        f"asia/p{n:02}/": "<p>" + " ".join(rng.choices(words, k=rng.randint(0, 300))) + "</p>"
        for n in range(40)
    }
    docs = [doc(url, f"20{10 + n % 9}-0{1 + n % 9}-1{n % 10}") for n, url in enumerate(texts)]
    index(tmp_path / "compiled", stored(tmp_path / "a", texts), docs, None)
    monkeypatch.setattr(terms_module, "count_words", count_words_python)
    monkeypatch.setattr(index_module, "add_postings", add_postings_python)
    assert count("t", "<p>x</p>").counts == {"x": 1, "t": 3}
    index(tmp_path / "python", stored(tmp_path / "b", texts), docs, None)
    assert tree(tmp_path / "python") == tree(tmp_path / "compiled")
