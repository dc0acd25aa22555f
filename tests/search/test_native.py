"""The compiled loops (broadsheet/search/_native.c) give what their Python twins give, to
the byte, and the install builds them wherever a C compiler is found."""

from __future__ import annotations

import itertools
import os
import random
import shutil
import string
import struct
import subprocess
import sys
import sysconfig
import tracemalloc
import zipfile
import zlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import broadsheet.search.index as index_module
import broadsheet.search.terms as terms_module
from broadsheet.search.index import SHARDS, _ArrayPostings, _PackedPostings, shard_of
from broadsheet.search.terms import (
    _BLOCK_NAMES,
    _INLINE_NAMES,
    MAX_TERM,
    _folded,
    _joined,
    _Stems,
    count,
    count_words_python,
    stem_of,
    text_by_expressions,
    text_of,
)
from tests.search.test_index import VOCABULARY, doc, index, stored, tree
from tests.search.test_terms import _MARKUP


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
    assert type(terms_module._STEMS) is _native.StemTable
    assert terms_module.quick_text_of is _native.text_of
    assert terms_module.quick_fold_join is _native.fold_join
    assert index_module._Postings is _PackedPostings


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
    small = loops.StemTable(stem_of, 3)  # (emptied every third word)
    for given_text in (text, _joined(_folded(text))):
        want = count_words_python(given_text, _Stems())
        for stems in (terms_module._STEMS, small, _Stems()):
            got = loops.count_words(given_text, stems)
            assert got == want
            assert list(got[0]) == list(want[0])  # (the same order: first met, first listed)


# Text of ASCII and the characters the compiled fold takes (and a few it does not):
# abbreviations, possessives and apostrophes in every arrangement, capitals, "_".
_FOLD_PIECES = st.one_of(
    st.sampled_from(
        [
            *"aAsSbZ9_.'’ \n-",
            "U.S.",
            "u.s.ab",
            "e.g.",
            "'s",
            "’s",
            "..",
            "é",
            "É",
            "İ",
            "ñ",
            "“",
            "”",
            "£",
            "€",
            "—",
            "\xa0",
            "․",  # (one dot leader: a "." to NFKD)
            "ß",  # (not taken: no ASCII letter alone)
            "Σ",
            "\u0301",
            "…",
            "½",
        ]
    ),
    st.sampled_from([chr(c) for c in range(0x80, terms_module.FOLDS_SIZE)]),
)


@given(st.one_of(st.text(), st.lists(_FOLD_PIECES, max_size=60).map("".join)))
@example("U.S. and e.g. Pakistan’s didn’t")
@example("a.b.c.d.e1 u.s.ab x.y_ ...a.b it's_x they'said a''b")
@example("İ.s. É.T. naïve “quoted” ’s")
def test_the_compiled_fold_gives_what_folding_and_joining_give_or_none(text: str) -> None:
    """It takes every text of ASCII and of characters that fold alone to one ASCII
    character, and gives for it what `_folded` then `_joined` give; and None for any
    other text (which they fold)."""
    loops = _loops()
    folds = terms_module._folds()
    quick = loops.fold_join(text, folds)
    taken = all(ord(c) < 128 or (ord(c) < len(folds) and folds[ord(c)]) for c in text)
    assert (quick is not None) == taken
    if quick is not None:
        assert quick == _joined(_folded(text))
        assert quick.isascii()


# ASCII at the edges of the capitals ("@" before "A", "[" after "Z", "`" before "a"),
# for the fold of eight bytes at once (see fold_eight in _native.c), in text one, two
# or four bytes a character wide.
_FOLD_EDGES = st.sampled_from(
    ["@", "A", "M", "Z", "[", "`", "a", "z", "{", "\x7f", "\x00", "0", " ", ".", "'", "U.S.", "é"]
)  # fmt: skip


@settings(max_examples=500)
@given(st.lists(_FOLD_EDGES, max_size=40).map("".join), st.sampled_from(["", "’", "\U0001d400"]))
@example("@AZ[`az{@AZ[`az{MMMMMMMM", "")
@example("@AZ[`az{@AZ[`az{MMMMMMMM", "’")
def test_the_compiled_fold_lowers_runs_of_ascii_as_folding_does(text: str, wide: str) -> None:
    loops = _loops()
    folds = terms_module._folds()
    third = len(text) // 3
    for whole in (text + wide, wide + text, text[:third] + wide + text[third:]):
        quick = loops.fold_join(whole, folds)
        assert quick is None or quick == _joined(_folded(whole))
    assert loops.fold_join(text, folds) == _joined(_folded(text))


def test_the_compiled_fold_takes_news_text_and_refuses_a_bad_table() -> None:
    loops = _loops()
    folds = terms_module._folds()
    assert loops.fold_join("Pakistan’s “U.S.” trade: £5bn, €3bn — naïve", folds) == (
        "pakistan  us  trade:  5bn,  3bn   naive"
    )
    assert loops.fold_join("Łódź", folds) is None  # (ł folds to no ASCII letter)
    with pytest.raises(TypeError):
        loops.fold_join("a", folds[:-1])
    with pytest.raises(TypeError):
        loops.fold_join(b"a", folds)


_WORDS_IN_EVERY_WIDTH = st.lists(
    st.text(st.sampled_from("ab9éßÿĀğΩ東🙂"), min_size=1, max_size=20), min_size=1, max_size=30
)


@given(_WORDS_IN_EVERY_WIDTH, st.integers(1, 8))
@example(["café", "cafés", "Ω"], 8)  # (café in a str of one byte a character, then two)
@example(["a" * 16, "a" * 17, "é" * 16, "ğ" * 16], 8)  # (kept inline up to 16, below U+0100)
def test_the_compiled_stem_table_gives_each_word_its_term_in_any_text(
    words: list[str], limit: int
) -> None:
    """The same word is the same term whatever else its text holds (a str keeps one,
    two or four bytes a character, by its widest), kept inline or as a string, found
    again as a string (table[word]) or in a text, however often the table is emptied."""
    loops = _loops()
    table = loops.StemTable(stem_of, limit)
    for text in (" ".join(words), " ".join([*words, "🙂"]), " ".join(reversed(words))):
        assert loops.count_words(text, table) == count_words_python(text, _Stems())
        assert [table[word] for word in words] == [stem_of(word) for word in words]
        assert len(table) <= limit


@given(st.lists(st.text(st.sampled_from("aeinrstgy019AZé_"), min_size=0, max_size=44), max_size=40))
@example(["x" * 40, "x" * 40 + "ing", "runs" * 10, "runnings" * 5 + "s", "2020", "2020s"])
@example(["Running", "naïve", "élections", "elections", "a1b", "A1B", ""])
def test_a_stem_table_that_stems_plain_words_itself_gives_each_its_term(words: list[str]) -> None:
    """A word of a-z and 0-9, uncut, goes straight to the stemmer the build's table is
    given (`quick`, see terms._STEMS); every other word to stem_of. Both ways, a word
    gets stem_of's term."""
    loops = _loops()
    table = loops.StemTable(stem_of, 1 << 18, terms_module._STEMMER.stemWord, MAX_TERM)
    text = " ".join(words)
    assert loops.count_words(text, table) == count_words_python(text, _Stems())
    assert [table[word] for word in words] == [stem_of(word) for word in words]


def test_a_stem_table_given_a_bad_quick_stemmer_fails_as_python_would() -> None:
    loops = _loops()
    with pytest.raises(ValueError):
        loops.StemTable(stem_of, 10, "not a function", MAX_TERM)
    with pytest.raises(ValueError):
        loops.StemTable(stem_of, 10, stem_of, 0)

    def failing(word: str) -> str:
        raise LookupError(word)

    with pytest.raises(LookupError, match="zebra"):
        loops.count_words("zebra", loops.StemTable(stem_of, 10, failing, MAX_TERM))
    with pytest.raises(TypeError):
        loops.count_words("zebra", loops.StemTable(stem_of, 10, lambda word: 7, MAX_TERM))
    # (a word the quick stemmer is not given is stem_of's, even when it would fail)
    assert loops.StemTable(stem_of, 10, failing, MAX_TERM)["Zebra"] == stem_of("Zebra")


def test_words_made_to_collide_in_the_stem_table_still_get_their_terms() -> None:
    # A worker's table lives for the whole render: words made to collide in its
    # unkeyed hash are not kept past a few probes (MOST_PROBES), so each later word
    # costs a few probes, never the whole cluster; and each is still its own term.
    loops = _loops()
    table = loops.StemTable(stem_of, 1 << 18)
    words = ["".join(blocks) for blocks in itertools.product(*_COLLIDING)]
    for start in range(0, 1024, 64):  # (an article each: fewer than its own table gives up at)
        some = words[start : start + 64]
        text = " ".join(some)
        assert loops.count_words(text, table) == count_words_python(text, _Stems())
    assert len(table) < 1024  # (some were not kept)
    assert [table[word] for word in words] == [stem_of(word) for word in words]


def test_a_stem_table_given_a_bad_stem_function_fails_as_python_would() -> None:
    loops = _loops()
    with pytest.raises(ValueError):
        loops.StemTable("not a function", 10)
    with pytest.raises(ValueError):
        loops.StemTable(stem_of, 0)

    def failing(word: str) -> str:
        raise LookupError(word)

    with pytest.raises(LookupError, match="zebra"):
        loops.count_words("zebra", loops.StemTable(failing, 10))
    with pytest.raises(TypeError):
        loops.count_words("zebra", loops.StemTable(lambda word: 7, 10))
    with pytest.raises(TypeError):
        loops.StemTable(stem_of, 10)[b"zebra"]


def test_a_stem_function_that_counts_with_its_own_table_is_safe() -> None:
    # (Python run from inside a lookup may grow or empty the table being looked in.)
    loops = _loops()
    table: object = None

    def reentrant(word: str) -> str:
        if not word.startswith("x"):  # (300 more words: the table grows, and is emptied)
            loops.count_words(" ".join(f"x{word}{n}" for n in range(300)), table)
        return stem_of(word)

    table = loops.StemTable(reentrant, 50)
    text = "elections trade talks elections " * 3 + " ".join(f"w{n}" for n in range(40))
    assert loops.count_words(text, table) == count_words_python(text, _Stems())


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


# Blocks of six letters that take the compiled table's hash (FNV-1a, unkeyed) from where
# the pair before leaves it to states equal in their low 40 bits: one from each pair,
# end to end, makes 1,024 words that share a slot in any table of up to 2,048 slots.
# (Found by a birthday search over random blocks: a second of numpy a pair. Equal low
# bits stay equal whatever follows, so an attacker can chain as many as they like.)
_COLLIDING = [
    ("z829s7", "lhgxss"),
    ("70zbo5", "7urj1j"),
    ("dh63pf", "fjwv62"),
    ("525n7j", "isncdb"),
    ("ksxg6n", "zn9vz2"),
    ("3h094r", "ilf06y"),
    ("5xg03a", "ptixla"),
    ("fs1ne8", "22fc20"),
    ("6py9cd", "k9rmyq"),
    ("905fue", "kxi756"),
]


def _slot(word: str, slots: int) -> int:
    """Where the compiled count_words puts a word in a table of `slots` slots."""
    state = 14695981039346656037
    for character in word:
        state = ((state ^ ord(character)) * 1099511628211) % 2**64
    return (state ^ (state >> 29)) % slots


def test_words_made_to_collide_in_the_table_are_counted_by_the_python_twin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Imported text is someone else's: an article of words made to collide would make
    # the compiled table probe quadratically in its words (seconds for an article of a
    # few hundred thousand). The table gives up past a few probes a word, and the
    # article is counted by the twin, whose dict hashes with a key for each process.
    loops = _loops()
    words = ["".join(blocks) for blocks in itertools.product(*_COLLIDING)]
    assert len(set(words)) == 1024 and len({_slot(word, 2048) for word in words}) == 1
    text = " ".join(words)
    assert loops.count_words(text, terms_module._STEMS) is None
    counted = count("Title", f"<p>{text} the end</p>")
    monkeypatch.setattr(terms_module, "count_words", count_words_python)
    assert counted == count("Title", f"<p>{text} the end</p>")
    assert counted.length == 1026


def test_many_distinct_words_do_not_make_the_table_give_up() -> None:
    # (Words that differ only in their last characters hash close together in FNV's low
    # bits: they must still be counted here, not handed to the slower twin.)
    loops = _loops()
    for words in (
        [f"w{n}" for n in range(60_000)],
        [f"{n:x}" for n in range(0, 2**20, 7)],
        ["".join(letters) for letters in itertools.product("etaoinshrd", repeat=4)],
    ):
        text = " ".join(words)
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


Postings = _ArrayPostings | _PackedPostings
TOTAL = 2 * SHARDS  # term files (a multiple of SHARDS, as shard_count gives)


def _filed(numbers: Any, triples: bytearray) -> dict[str, list[int]]:
    """What a slice counted into (`numbers`, `triples`) puts in the term files, read
    back: {term: [id, count, gap, count ...]}."""
    return _read_back(_loops().slice_runs(numbers, triples, 1, SHARDS))


def _read_back(runs: list[bytes]) -> dict[str, list[int]]:
    """A slice's `runs` (of one group) gathered into the term files, read back."""
    files: dict[int, bytes] = {}
    _PackedPostings.gather(runs, TOTAL, list(range(TOTAL)), files.__setitem__)
    return {term: gaps for data in files.values() for term, gaps in orjson.loads(data).items()}


def _merged(
    kind: type[Postings],
    slices: list[list[dict[str, int]]],
    groups: int = 3,
    first: int = 0,
    step: int = 1,
) -> tuple[dict[int, bytes], dict[str, int]]:
    """Each slice's articles (numbered on from the slice before, from `first`, `step`
    apart) added to a postings table of `kind`, its runs made; each group's runs
    gathered: the term files written, and each term's count of articles."""
    runs: list[list[bytes]] = []
    number = first
    for articles in slices:
        table = kind()
        for counts in articles:
            table.add(number, counts)
            number += step
        runs.append(table.runs(groups))
    files: dict[int, bytes] = {}
    articles_of: dict[str, int] = {}
    for group in range(groups):
        shards = [n for n in range(TOTAL) if n % SHARDS % groups == group]
        some = kind.gather((run[group] for run in runs), TOTAL, shards, files.__setitem__)
        assert not articles_of.keys() & some.keys()
        articles_of.update(some)
    return files, articles_of


_TERMS = st.sampled_from([*VOCABULARY, "naïve", "東京", 'a"b', "tab\there", "\x00", "€"])


@given(
    st.lists(
        st.lists(st.dictionaries(_TERMS, st.integers(1, 2**32 - 1), max_size=20), max_size=8),
        max_size=5,
    ),
    st.integers(1, 5),
    # (ids and gaps of each size of varint, up to the last id a uint32 holds)
    st.sampled_from(
        [0, 127, 128, 2**14 - 1, 2**14, 2**21 - 1, 2**28 - 1, 2**31, 2**32 - 1 - 39 * 2**21]
    ),
    st.sampled_from([1, 127, 128, 2**14, 2**21 - 1, 2**21]),
)
def test_merging_postings_agrees_with_python(
    slices: list[list[dict[str, int]]], groups: int, first: int, step: int
) -> None:
    # The compiled runs (records of UTF-8 and varints) and the Python twin's
    # (marshalled dicts) differ; the term files and counts they are merged into do not.
    _loops()
    files, articles_of = _merged(_PackedPostings, slices, groups, first, step)
    assert (files, articles_of) == _merged(_ArrayPostings, slices, groups, first, step)
    assert sorted(files) == list(range(TOTAL))  # (each term file, if only as {})
    for data in files.values():
        for term, gaps in orjson.loads(data).items():
            assert articles_of[term] == len(gaps) // 2


_ARTICLE_WORDS = st.sampled_from(
    [*VOCABULARY[:40], "Elections", "election", "U.S.", "Pakistan’s", "naïve", "Łódź", "東京",
     "x²", "a" * 45, "a" * 46, "b" * 64, "b" * 65, "the", "The", "THE", "£5", "“quoted”", "9",
     "\u0301", " ", "abcdefgh", "abcdefghi", "abcdefgH", "abcdefg\xe6", "abcdefgi", "bacdefgh"]
)  # fmt: skip
_ARTICLES = st.lists(
    st.tuples(
        st.lists(_ARTICLE_WORDS, max_size=6).map(" ".join),
        st.lists(_ARTICLE_WORDS, max_size=80).map(" ".join),
    ),
    min_size=1,
    max_size=6,
)


@given(_ARTICLES, st.integers(1, 4))
@example([("The elections", "elections election Elections the the")], 2)
@example([("", "")], 1)
@example([("", "abcdefgh abcdefghi abcdefgh x abcdefghi"), ("abcdefgh", "abcdefghi abcdefgi a")], 2)
@example([("the", "the " * 1234 + "trade " * 10), ("", "trade " * 100)], 3)  # (counts' digits)
def test_counting_a_slice_in_one_compiled_pass_agrees_with_python(
    articles: list[tuple[str, str]], groups: int
) -> None:
    """count_into gives each article's length, and leaves the slice as adding
    count_text's dicts would (titles' terms, words of one term, new and old terms of
    the slice): the same runs, so the same term files."""
    _loops()
    compiled, python = _PackedPostings(), _ArrayPostings()
    for number, (title, text) in enumerate(articles):
        want = terms_module.count_text(title, text).length
        assert compiled.count(title, text, number) == want
        assert python.count(title, text, number) == want
    runs = [compiled.runs(groups), python.runs(groups)]
    merged = []
    for kind, some in zip((_PackedPostings, _ArrayPostings), runs, strict=True):
        files: dict[int, bytes] = {}
        for group in range(groups):
            shards = [n for n in range(TOTAL) if n % SHARDS % groups == group]
            kind.gather([some[group]], TOTAL, shards, files.__setitem__)
        merged.append(files)
    assert merged[0] == merged[1]


@given(st.lists(_ARTICLES, min_size=1, max_size=4), st.integers(1, 4))
@example([[("", "trade talks")], [("", "election")], [("Trade", "trade")]], 2)
def test_slices_that_share_their_terms_file_what_each_would_alone(
    slices: list[list[tuple[str, str]]], groups: int
) -> None:
    """A worker numbers its terms once for every slice it counts (ColdMerge.postings):
    each slice's runs, gathered with the slices before them, write the term files that
    slices counted in Python write; a term of an earlier slice has no posting in a later
    one that lacks it, and the marks slice_runs leaves are cleared (the next slice
    counts as if they had never been)."""
    loops = _loops()
    shared = loops.TermNumbers()
    runs: dict[type[Postings], list[list[bytes]]] = {_PackedPostings: [], _ArrayPostings: []}
    number = 0
    for articles in slices:
        compiled, python = _PackedPostings(shared), _ArrayPostings()
        for title, text in articles:
            want = terms_module.count_text(title, text).length
            assert compiled.count(title, text, number) == want
            assert python.count(title, text, number) == want
            number += 1
        runs[_PackedPostings].append(compiled.runs(groups))
        runs[_ArrayPostings].append(python.runs(groups))
    merged = []
    for kind, some in runs.items():
        files: dict[int, bytes] = {}
        for group in range(groups):
            shards = [n for n in range(TOTAL) if n % SHARDS % groups == group]
            kind.gather([run[group] for run in some], TOTAL, shards, files.__setitem__)
        merged.append(files)
    assert merged[0] == merged[1]


def test_a_slice_s_runs_are_refused_while_its_terms_count() -> None:
    """slice_runs marks the terms it writes in the numbers' tallies: a stem function
    that asks for the runs of the numbers counting is refused, and leaves them whole."""
    loops = _loops()
    numbers, triples = loops.TermNumbers(), bytearray()
    loops.count_into("before", loops.StemTable(stem_of, 10), "", numbers, triples, 0, 3)

    def runs_midway(word: str) -> str:
        loops.slice_runs(numbers, triples, 1, SHARDS)
        return word

    with pytest.raises(RuntimeError, match="counting"):
        loops.count_into("midway", loops.StemTable(runs_midway, 10), "", numbers, triples, 1, 3)
    assert loops.count_into("after", loops.StemTable(stem_of, 10), "", numbers, triples, 2, 3) == 1
    assert _filed(numbers, triples) == {"befor": [0, 1], "after": [2, 1]}


def test_a_slice_of_many_terms_in_a_worker_s_table_files_each() -> None:
    """A slice's runs make room for its terms as they are met (a slice of news takes
    about a fifth of its worker's terms): a slice with thousands of terms, some numbered
    in the slices before it, files each term, with its own postings only."""
    loops = _loops()
    numbers = loops.TermNumbers()
    earlier = {f"old{n}": 1 for n in range(3000)}
    loops.slice_add(numbers, bytearray(), 0, earlier)  # (an earlier slice's terms)
    triples = bytearray()
    want: dict[str, list[int]] = {}  # (term -> [id, count, gap, count ...])
    last: dict[str, int] = {}
    for number in range(1, 5):
        counts = {f"new{n}x{number % 2}": n % 7 + 1 for n in range(2500)}
        counts.update({f"old{n}": 2 for n in range(number, 3000, 3)})
        loops.slice_add(numbers, triples, number, counts)
        for term, times in counts.items():
            want.setdefault(term, []).extend([number - last.get(term, 0), times])
            last[term] = number
    assert _filed(numbers, triples) == want


def test_a_slice_s_runs_take_room_for_its_own_terms_not_all_its_worker_s() -> None:
    """A slice of many postings but few terms, counted by a worker that has met many
    terms, makes its runs in room for its own: room for each posting or for each term
    of the worker was a block of a megabyte and more a slice in a build, where the
    render's freed memory, in smaller pieces, could not take it (see render._tasks)."""
    loops = _loops()
    numbers = loops.TermNumbers()
    loops.slice_add(numbers, bytearray(), 0, {f"word{n}": 1 for n in range(60_000)})
    triples = bytearray()
    for number in range(1, 12_001):
        loops.slice_add(numbers, triples, number, {"trade": 1, "talks": 2})
    tracemalloc.start()
    try:
        runs = loops.slice_runs(numbers, triples, 1, SHARDS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # (a copy of the triples, 288 KB, and the runs, 48 KB: room for each posting took
    # 1.7 MB more)
    assert peak < 2 * len(triples) + 200_000
    assert _read_back(runs) == {
        "trade": [1, 1] + [1, 1] * 11_999,
        "talks": [1, 2] + [1, 2] * 11_999,
    }


def test_a_slice_keeps_its_words_and_the_stem_table_only_its_titles_words() -> None:
    """The words of a text counted into a slice are kept by the slice (each with its
    term's number, for all the slices its numbers count), not in the stem table as
    well: in a worker that copy was a table of 1.5 MB beyond the room the render had let
    go. The stem table keeps the titles' words, which the slice does not keep, and a
    word too long for the slice to keep; the terms are the same either way."""
    loops = _loops()
    stems = loops.StemTable(stem_of, 100_000)
    numbers, triples = loops.TermNumbers(), bytearray()
    body = " ".join(f"trading{n} elections" for n in range(400)) + " " + "x" * 70
    assert loops.count_into(body, stems, "trade talks", numbers, triples, 0, 3) == 801
    assert len(stems) == 3  # ("trade", "talks" and the word of 70 letters)
    assert loops.count_into(body, stems, "", numbers, triples, 1, 3) == 801
    assert len(stems) == 3
    filed = _filed(numbers, triples)
    assert filed[stem_of("elections")] == [0, 400, 1, 400] and filed["trade"] == [0, 3]
    assert filed[stem_of("trading7")] == [0, 1, 1, 1] and filed[stem_of("x" * 70)] == [0, 1, 1, 1]


def test_a_slice_whose_only_term_is_empty_files_it() -> None:
    """(A review's finding, under UBSan.) A table whose terms are all "" keeps no UTF-8
    at all: its runs copy none, and the empty term is filed."""
    loops = _loops()
    numbers, triples = loops.TermNumbers(), bytearray()
    loops.slice_add(numbers, triples, 0, {"": 1})
    loops.slice_add(numbers, triples, 3, {"": 2})
    assert _filed(numbers, triples) == {"": [0, 1, 3, 2]}


def test_a_cold_merge_numbers_terms_once_a_process(tmp_path: Path) -> None:
    """A cold merge's slices share one table of terms in a process, and a forked
    worker makes its own (its slices' numbers are never another process's)."""
    _loops()
    merge = index_module.ColdMerge(None, [], None, tmp_path)  # type: ignore[arg-type]
    first, second = merge.postings(), merge.postings()
    assert isinstance(first, _PackedPostings) and isinstance(second, _PackedPostings)
    assert first.terms is second.terms and first.triples is not second.triples
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # (the child says whether its table is its own, then leaves at once)
        child = merge.postings()
        os.write(write, b"own" if child.terms is not first.terms else b"shared")  # type: ignore[union-attr]
        os._exit(0)
    os.close(write)
    assert os.read(read, 16) == b"own"
    os.waitpid(pid, 0)
    assert merge.postings().terms is first.terms  # type: ignore[union-attr]


def _short_words_colliding_in_a_slice(count: int) -> list[str]:
    """`count` words of four letters that the compiled slice's table (SliceWords, of
    4,096 slots when it starts) puts in one slot: its hash of a short word is its
    characters' bytes (little-endian) times a constant, the high half folded in."""
    by_slot: dict[int, list[str]] = {}
    for letters in itertools.product(string.ascii_lowercase, repeat=4):
        word = "".join(letters)
        hashed = (int.from_bytes(word.encode(), "little") * 0x9E3779B97F4A7C15) % 2**64
        slot = (hashed ^ (hashed >> 32)) % 4096
        found = by_slot.setdefault(slot, [])
        found.append(word)
        if len(found) == count:
            return found
    raise AssertionError("no slot held enough words")


def _long_words_colliding_in_a_slice(count: int) -> list[str]:
    """`count` words of twelve letters that the compiled slice's table puts in one slot:
    its hash of a longer word is taken of the length, then of its characters eight at
    a time (little-endian, the last ones padded with zeros), a multiply each, the high
    half folded in after each (see long_hash)."""

    def step(hashed: int, chunk: bytes) -> int:
        hashed = (
            (hashed ^ int.from_bytes(chunk.ljust(8, b"\0"), "little")) * 0xFF51AFD7ED558CCD
        ) % 2**64
        return hashed ^ (hashed >> 32)

    by_slot: dict[int, list[str]] = {}
    for letters in itertools.product(string.ascii_lowercase, repeat=4):
        word = "election" + "".join(letters)
        data = word.encode()
        hashed = step(step((len(data) * 0x9E3779B97F4A7C15) % 2**64, data[:8]), data[8:])
        found = by_slot.setdefault(hashed % 4096, [])
        found.append(word)
        if len(found) == count:
            return found
    raise AssertionError("no slot held enough words")


@pytest.mark.parametrize(
    "kind", ["stem table", "short words", "long words"], ids=lambda kind: kind.replace(" ", "-")
)
def test_a_slice_of_words_made_to_collide_is_counted_as_in_python(kind: str) -> None:
    """A slice keeps the words its articles met, with their terms' numbers, in a table
    of its own (see SliceWords), by a hash of its own (of a short word's eight bytes,
    or of a longer one's eight at a time); words made to collide there are kept up to
    a few probes, and the rest kept in the stem table and looked up there each time
    (where words can be made to collide too, under FNV); every article is still counted
    as in Python, and the slice's runs agree."""
    _loops()
    if kind == "short words":
        words = _short_words_colliding_in_a_slice(96)
    elif kind == "long words":
        words = _long_words_colliding_in_a_slice(96)
    else:
        words = ["".join(blocks) for blocks in itertools.product(*_COLLIDING)]
    compiled, python = _PackedPostings(), _ArrayPostings()
    for number in range(24):  # (each article: 64 of them, half met in the one before)
        some = [words[(number * 32 + k) % len(words)] for k in range(64)]
        text = " ".join([*some, "trade", "talks"])
        want = terms_module.count_text("Trade", text).length
        assert compiled.count("Trade", text, number) == want
        assert python.count("Trade", text, number) == want
    merged = []
    for kind, some in ((_PackedPostings, compiled.runs(2)), (_ArrayPostings, python.runs(2))):
        files: dict[int, bytes] = {}
        for group in range(2):
            shards = [n for n in range(TOTAL) if n % SHARDS % 2 == group]
            kind.gather([some[group]], TOTAL, shards, files.__setitem__)
        merged.append(files)
    assert merged[0] == merged[1]


def test_a_word_the_slice_cannot_keep_goes_to_the_stem_table_and_is_stemmed_no_more() -> None:
    """A word new to a slice is kept there and not in the stem table too; one the slice
    cannot keep (made to collide there, or longer than it keeps) is kept in the stem
    table instead, stemmed once more to be kept (a colliding one), and never again
    however often it is met."""
    loops = _loops()
    calls: dict[str, int] = {}

    def stem(word: str) -> str:
        calls[word] = calls.get(word, 0) + 1
        return stem_of(word)

    stems, numbers, triples = loops.StemTable(stem, 100_000), loops.TermNumbers(), bytearray()
    words = _short_words_colliding_in_a_slice(96)
    text = " ".join([*words, "y" * 70, "trade"])
    for number in range(5):
        assert loops.count_into(text, stems, "", numbers, triples, number, 3) == 98
    twice = {word for word, times in calls.items() if times == 2}
    assert twice and set(calls.values()) == {1, 2} and calls["trade"] == calls["y" * 70] == 1
    assert len(stems) == len(twice) + 1  # (those, and the long word)
    filed = _filed(numbers, triples)
    assert all(filed[stem_of(word)] == [0, 1, 1, 1, 1, 1, 1, 1, 1, 1] for word in words)


def test_a_slice_counted_with_another_stem_table_takes_that_table_s_terms() -> None:
    """(A review's finding.) The words a slice keeps with their terms' numbers came from
    one stem table: counted with another, a word gets the other's term, whatever the
    width of its text."""
    loops = _loops()
    numbers, triples = loops.TermNumbers(), bytearray()
    loops.count_into("apple pie", loops.StemTable(lambda w: w, 100), "", numbers, triples, 0, 3)
    upper = loops.StemTable(str.upper, 100)
    assert loops.count_into("apple pie", upper, "", numbers, triples, 1, 3) == 2
    assert loops.count_into("apple pie \u6771", upper, "", numbers, triples, 2, 3) == 3
    assert loops.count_into("", upper, "pie", numbers, triples, 3, 3) == 0  # (a title's word)
    assert _filed(numbers, triples) == {
        "apple": [0, 1],
        "pie": [0, 1],
        "APPLE": [1, 1, 1, 1],
        "PIE": [1, 1, 1, 1, 1, 3],
        "\u6771": [2, 1],
    }


def test_a_stem_function_that_counts_into_the_same_slice_is_refused() -> None:
    loops = _loops()
    numbers, triples = loops.TermNumbers(), bytearray()

    def reentrant(word: str) -> str:
        loops.count_into("inner", table, "", numbers, triples, 0, 3)
        return word

    table = loops.StemTable(reentrant, 10)
    with pytest.raises(RuntimeError, match="counting already"):
        loops.count_into("outer", table, "", numbers, triples, 0, 3)
    assert loops.count_into("after", loops.StemTable(stem_of, 10), "t", numbers, triples, 1, 3) == 1
    assert _filed(numbers, triples) == {"after": [1, 1], "t": [1, 3]}


def test_counting_into_a_slice_files_any_term_and_refuses_no_boost() -> None:
    """(A review's findings.) A stem function's terms are letters and digits; any other
    (quotes, backslashes, control characters) is counted and filed as it is. A boost of
    0 would count a title's term as not met, twice: refused; a title's count times the
    boost beyond 32 bits, too."""
    loops = _loops()
    odd = 'a"b\\c\x01\x08\t\n\x0c\r\x1f\x7f\u2028'
    stems = loops.StemTable(lambda word: odd + word, 10)
    numbers, triples = loops.TermNumbers(), bytearray()
    assert loops.count_into("ab cd ab", stems, "ef ab", numbers, triples, 0, 3) == 3
    want = {odd + "ab": [0, 5], odd + "cd": [0, 1], odd + "ef": [0, 3]}
    assert _filed(numbers, triples) == want
    with pytest.raises(ValueError, match="boost"):
        loops.count_into("ab", stems, "t", loops.TermNumbers(), bytearray(), 0, 0)
    with pytest.raises(OverflowError, match="32 bits"):
        loops.count_into("", stems, "t t", loops.TermNumbers(), bytearray(), 0, 2**31)
    # A term with no UTF-8 (a lone surrogate) is numbered, and fails where it is written.
    surrogate = loops.StemTable(lambda word: "\ud800" + word, 10)
    numbers, triples = loops.TermNumbers(), bytearray()
    assert loops.count_into("ab cd", surrogate, "", numbers, triples, 0, 3) == 2
    with pytest.raises(UnicodeEncodeError):
        loops.slice_runs(numbers, triples, 1, SHARDS)


def test_numbers_that_are_integers_by_their_index_are_taken_as_in_python() -> None:
    _loops()

    class Five:  # (as numpy's integers are)
        def __index__(self) -> int:
            return 5

    merged = [
        _merged(kind, [[{}] * 5 + [{"a": Five(), "b": True}]])  # type: ignore[dict-item]
        for kind in (_PackedPostings, _ArrayPostings)
    ]
    assert merged[0] == merged[1]
    assert merged[0][1] == {"a": 1, "b": 1}


def test_a_count_or_number_beyond_32_bits_is_refused_as_in_python() -> None:
    _loops()
    # (After one, the slice is abandoned: the build stops.)
    for number, counts in [(0, {"a": 2**32}), (2**32, {"a": 1}), (0, {"a": -1})]:
        for postings in (_ArrayPostings(), _PackedPostings()):
            postings.add(0, {"kept": 1})
            with pytest.raises(OverflowError):
                postings.add(number, {"b": 1, **counts})


def test_a_slice_numbers_its_terms_by_their_characters_in_the_order_first_met() -> None:
    """The compiled slice's TermNumbers: a term is the same term as another string with
    its characters (a stem made for two words is two strings); numbers follow the order
    terms are first met, as the dict they replace gave them; a key that is no str is
    refused; and a count whose __index__ adds terms as it is read leaves the numbers
    whole (the table grows under the loop)."""
    loops = _loops()
    numbers, triples = loops.TermNumbers(), bytearray()
    elect = "".join(["ele", "ct"])  # (not the literal's string)
    loops.slice_add(numbers, triples, 0, {"elect": 2, "trade": 1})
    loops.slice_add(numbers, triples, 1, {"talks": 1, elect: 3})
    assert len(numbers) == 3
    runs = loops.slice_runs(numbers, triples, 1, SHARDS)
    reference: dict[str, int] = {}
    reference_triples = bytearray()
    loops.slice_add(reference, reference_triples, 0, {"elect": 2, "trade": 1})
    loops.slice_add(reference, reference_triples, 1, {"talks": 1, "elect": 3})
    assert reference_triples == triples
    assert runs == loops.slice_runs(reference, reference_triples, 1, SHARDS)
    with pytest.raises(TypeError):
        loops.slice_add(numbers, triples, 2, {b"bytes": 1})
    with pytest.raises(TypeError):
        loops.TermNumbers(1)

    class Growing:  # (a count that adds 3,000 terms to the same table as it is read)
        def __index__(self) -> int:
            loops.slice_add(numbers, bytearray(), 9, {f"g{n}": 1 for n in range(3000)})
            return 1

    loops.slice_add(numbers, triples, 3, {"late": Growing(), "trade": 5})
    assert len(numbers) == 3 + 3000 + 1
    more = bytearray()
    loops.slice_add(numbers, more, 4, {"late": 1, "g2999": 1, "elect": 1})
    assert [int.from_bytes(more[n : n + 4], sys.byteorder) for n in (0, 12, 24)] == [3003, 3002, 0]
    # The runs write each term's UTF-8 as the slice keeps it (an empty term's, and one
    # beyond ASCII), as from a dict; a term that has none fails there, as its string does.
    only: dict[str, int] = {}
    numbered = loops.TermNumbers()
    got, want = bytearray(), bytearray()
    for number, counts in enumerate([{"": 2, "naïve": 1}, {"東京": 1, "": 1}]):
        loops.slice_add(numbered, got, number, counts)
        loops.slice_add(only, want, number, counts)
    assert loops.slice_runs(numbered, got, 2, SHARDS) == loops.slice_runs(only, want, 2, SHARDS)
    loops.slice_add(numbered, got, 2, {"\ud800": 1})
    with pytest.raises(UnicodeEncodeError):
        loops.slice_runs(numbered, got, 1, SHARDS)


def test_a_term_without_utf8_is_found_by_its_characters_and_stems_come_back_whole() -> None:
    """A slice finds its terms by their hash and UTF-8, and a stem table keeps its
    stems' UTF-8 in place of their strings: a term with none (a lone surrogate) is kept
    as its string, one term for two strings with its characters; a stem that is no
    exact str is kept as it is, and refused as a term; and the table gives each stem
    back as a string with its characters (an empty one, one beyond ASCII)."""
    loops = _loops()
    numbers, triples = loops.TermNumbers(), bytearray()
    loops.slice_add(numbers, triples, 0, {"\ud800x": 1, "a": 1})
    loops.slice_add(numbers, triples, 1, {"".join(["\ud800", "x"]): 2, "a": 1, "\ud800y": 1})
    assert len(numbers) == 3
    assert [int.from_bytes(triples[n : n + 4], sys.byteorder) for n in range(0, 60, 12)] == [
        0,
        1,
        0,
        1,
        2,
    ]

    class Term(str):
        pass

    table = loops.StemTable(Term, 10)
    with pytest.raises(TypeError, match="must be a str"):
        loops.count_into("ab", table, "", loops.TermNumbers(), bytearray(), 0, 3)
    assert type(table["ab"]) is Term
    lone = loops.StemTable(lambda word: "\ud800" + word, 2)  # (emptied every second word)
    words = ["a", "b", "c", "a", "東"]
    assert [lone[word] for word in words] == ["\ud800" + word for word in words]
    assert loops.count_words("a b c a", lone) == ({"\ud800a": 2, "\ud800b": 1, "\ud800c": 1}, 4)
    kept = loops.StemTable(stem_of, 10)
    words = ["elections", "elections", "naïve", "東京", "", "x" * 50]
    assert [kept[word] for word in words] == [stem_of(word) for word in words]
    numbers, triples = loops.TermNumbers(), bytearray()
    assert loops.count_into("elections naïve", kept, "elections naïve", numbers, triples, 0, 3) == 2
    assert _filed(numbers, triples) == {"elect": [0, 4], "naïve": [0, 4]}


def test_a_stem_whose_del_uses_the_table_while_it_is_emptied_is_held_and_let_go_once() -> None:
    """(A review's finding.) Emptying a stem table lets go of the stems it holds as
    strings (a str subclass's, say); one whose __del__ looks words up in the same table
    adds stems to it then, and each is held while the table lists it and let go once:
    none is let go twice, none kept for ever."""
    loops = _loops()
    made: list[str] = []
    tables: list[Any] = []

    class Stem(str):
        def __del__(self) -> None:
            if tables and not self.startswith("in"):
                tables[0]["in" + self + "1"]
                tables[0]["in" + self + "2"]

    def stem_of_word(word: str) -> str:
        stem = Stem(word)
        if word.startswith("in"):
            made.append(stem)
        return stem

    tables.append(loops.StemTable(stem_of_word, 4))
    for word in "abcd":
        tables[0][word]
    tables[0]["e"]  # (emptied: each stem let go adds two)
    looked_up = ["ina1", "ina2", "inb1", "ind2"]
    assert [tables[0][word] for word in looked_up] == looked_up
    tables.clear()  # (the table let go: the stems it still held with it)
    counts = [sys.getrefcount(made[n]) for n in range(len(made))]  # (the list's, the call's)
    assert len(made) >= 8 and counts == [2] * len(made)


def test_a_damaged_or_disordered_run_is_refused_by_the_compiled_gathering() -> None:
    loops = _loops()
    table = _PackedPostings()
    table.add(3, {"china": 2, "trade": 1})
    run = table.runs(1)[0]
    for damaged in (run[:-1], run[:5], run + b"x", run.replace(b"china", b"chinb")):
        gathering = loops.Gathering()
        with pytest.raises(ValueError, match="damaged"):
            gathering.add(damaged)
    gathering = loops.Gathering()
    gathering.add(run)
    with pytest.raises(ValueError, match="out of order"):  # (the same ids again)
        gathering.add(run)
    with pytest.raises(RuntimeError):  # (a gathering that failed is spent, half added)
        gathering.write(TOTAL, list(range(TOTAL)), dict().__setitem__)
    known = loops.Gathering()
    known.add(run)
    later = _PackedPostings()
    later.add(4, {"china": 1})
    again = bytearray(later.runs(1)[0])
    again[0] ^= 1  # (a term met before, under another CRC)
    with pytest.raises(ValueError, match="damaged"):
        known.add(bytes(again))
    spent = loops.Gathering()
    spent.add(run)
    with pytest.raises(ValueError, match="not listed"):
        spent.write(TOTAL, [], dict().__setitem__)
    with pytest.raises(RuntimeError):  # (once written, or failed writing, it is spent)
        spent.add(run)
    with pytest.raises(ValueError, match="distinct"):
        loops.Gathering().write(TOTAL, [1, 1], dict().__setitem__)
    with pytest.raises(ValueError):
        loops.slice_runs({"a": 1}, bytearray(), 1, SHARDS)  # (numbers out of order)
    # (a term's ids must rise in a slice: a gap is never negative)
    falling = bytearray(struct.pack("=6I", 0, 5, 1, 0, 4, 1))
    with pytest.raises(ValueError, match="rise"):
        loops.slice_runs({"a": 0}, falling, 1, SHARDS)
    with pytest.raises(ValueError, match="rise"):
        loops.slice_runs({"a": 0}, falling[:12] * 2, 1, SHARDS)  # (the same id twice)
    head = struct.pack("=I", zlib.crc32(b"a")) + b"\x01a\x01"
    for posting in (
        b"\x80\x80\x80\x80\x80\x01\x01",  # (a varint of six bytes)
        b"\x80\x80\x80\x80\x10\x01",  # (of 33 bits)
        b"\x01\x81",  # (cut short)
    ):
        with pytest.raises(ValueError, match="damaged"):
            loops.Gathering().add(head + posting)
    two = head[:-1] + b"\x02"  # (two postings: the second's gap must not be 0)
    with pytest.raises(ValueError, match="out of order"):
        loops.Gathering().add(two + b"\x05\x01\x00\x01")
    most = loops.Gathering()  # (the last id a uint32 holds, and a gap past it)
    most.add(two + b"\xfe\xff\xff\xff\x0f\x01\x01\x07")
    with pytest.raises(ValueError, match="damaged"):
        loops.Gathering().add(two + b"\xff\xff\xff\xff\x0f\x01\x01\x01")
    with pytest.raises(ValueError):
        loops.slice_runs({"a": 0}, bytearray(12), 0, SHARDS)  # (no group)


def test_long_terms_and_many_postings_take_varints_of_more_than_a_byte() -> None:
    # (a term's UTF-8 of 128 bytes and more, and 128 postings and more in one slice:
    # each size's varint then takes two bytes, and the run is read back whole)
    _loops()
    long, many = "x" * 130, [{"china": 1, "y" * 200: 2**28 - 1} for _ in range(130)]
    slices = [[{long: 1}], many, [{long: 2**21 - 1, "china": 2**14}]]
    assert _merged(_PackedPostings, slices, 2) == _merged(_ArrayPostings, slices, 2)


def test_a_record_whose_counts_or_varints_are_wrong_is_refused() -> None:
    loops = _loops()
    head = struct.pack("=I", zlib.crc32(b"a")) + b"\x01a"
    for damaged in (
        b"\x01\x02",  # (shorter than a CRC)
        head + b"\x00",  # (no postings)
        head + b"\xff\xff\xff\xff\x0f\x01\x01",  # (more postings than its bytes hold)
        head + b"\x01\x81\x80\x80\x80\x80\x00\x01",  # (an id of 1 in six bytes)
    ):
        with pytest.raises(ValueError, match="damaged"):
            loops.Gathering().add(damaged)


def test_the_compiled_gathering_holds_nothing_for_each_term_file_not_written() -> None:
    # (Its shards are looked up among those listed: a total of 2**30 term files, of
    # which one is written, once took 8 GB.)
    loops = _loops()
    table = _PackedPostings()
    table.add(0, {"china": 1})
    gathering = loops.Gathering()
    gathering.add(table.runs(1)[0])
    files: dict[int, bytes] = {}
    tracemalloc.start()
    try:
        shard = shard_of("china") % 2**30
        assert gathering.write(2**30, [shard], files.__setitem__) == {"china": 1}
        assert tracemalloc.get_traced_memory()[1] < 1_000_000
    finally:
        tracemalloc.stop()
    assert files == {shard: b'{"china":[0,1]}'}


def test_a_writer_that_fails_or_comes_back_stops_the_compiled_gathering() -> None:
    loops = _loops()
    table = _PackedPostings()
    table.add(0, {term: 1 for term in VOCABULARY})
    gathering = loops.Gathering()
    gathering.add(table.runs(1)[0])

    def write(shard: int, data: bytes) -> None:
        gathering.add(b"")  # (refused: the gathering is busy writing)

    with pytest.raises(RuntimeError, match="busy"):
        gathering.write(TOTAL, list(range(TOTAL)), write)

    def fails(shard: int, data: bytes) -> None:
        raise OSError("disk full")

    again = loops.Gathering()
    again.add(table.runs(1)[0])
    with pytest.raises(OSError, match="disk full"):
        again.write(TOTAL, list(range(TOTAL)), fails)


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
    store, stage = stored(tmp_path / "compiled", tmp_path / "a", docs, texts)
    index(stage, store, docs, None)
    monkeypatch.setattr(terms_module, "count_words", count_words_python)
    monkeypatch.setattr(terms_module, "quick_fold_join", terms_module.no_quick_fold_join)
    monkeypatch.setattr(index_module, "_Postings", _ArrayPostings)
    assert count("t", "<p>x</p>").counts == {"x": 1, "t": 3}
    store, stage = stored(tmp_path / "python", tmp_path / "b", docs, texts)
    index(stage, store, docs, None)
    assert tree(tmp_path / "python") == tree(tmp_path / "compiled")


# Markup as pages hold it: Markdown's tags, attributes with quotes and ">" in them, its
# entities, white space of every kind. The compiled reader reads all of it.
_PLAIN_PIECES = st.sampled_from(
    ["word", "Bé", "9", " ", "  ", "\n", "\t", "\xa0", "\u2028", "\u3000", "\x1f", "\ud800",
     "<p>", "</p>", "<br>", "<br/>", "<li>", "</li>", "<h2 id=\"x\">", "</h2>", "<em>", "</em>",
     '<a href="/a/?q=1&amp;b=2">', "</a>", "<img alt='a>b'>", "<td align=\"left\">",
     "<span class=x>", "</span>", "<foo>", "<p-x>", "<h7>", "<p\nclass=a>", "<table>",
     "<code>", "<sup>", "<pA>", ">", '"', "'", "&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
)  # fmt: skip
# And what it leaves to the regular expressions: comments, scripts, capitals, names
# beyond ASCII (which match `script` without case: ſcript, scrıpt), "<" in text or in
# an attribute, quotes that do not close, any other entity.
_HAZARDS = st.sampled_from(
    ["<pé>", "</>", "< p>", "<3", "<b", "&#39", "&#390;", "&amp", "&nbsp;", "&#10;",
     "&NewLine;", "&x;", "&", "<!-- c -->", "<!--", "<script>", "</script>", "<Style>", "<P>",
     "</B>", "<ſcript>", "<scrıpt>", "<sCRIPT>", "<template>", '<p title="<b>">',
     "<p title='x>", "<em title=\"<p title='>\">"]
)  # fmt: skip


@st.composite
def _pages(draw: st.DrawFn) -> tuple[str, bool]:
    """Markup, and whether it holds a hazard."""
    pieces = draw(st.lists(_PLAIN_PIECES, max_size=30))
    hazards = draw(st.lists(_HAZARDS, max_size=2))
    for hazard in hazards:
        pieces.insert(draw(st.integers(0, len(pieces))), hazard)
    return "".join(pieces), bool(hazards)


@settings(max_examples=800)
@given(_pages())
@example(("<p>a &amp; b</p>\n<p>c&nbsp;d</p>", True))
@example(('<p>x<img src="a>b">y</p><!-- z -->', True))
@example(("<scrıpt>x</scrıpt>y", True))
def test_the_compiled_text_of_gives_what_the_expressions_give_or_none(
    page: tuple[str, bool],
) -> None:
    loops = _loops()
    markup, hazardous = page
    quick = loops.text_of(markup, _BLOCK_NAMES, _INLINE_NAMES)
    assert quick is not None or hazardous
    assert quick is None or quick == text_by_expressions(markup)


@settings(max_examples=200)
@given(st.lists(_MARKUP, max_size=4).map("".join))
def test_the_compiled_text_of_agrees_on_nested_markup(markup: str) -> None:
    loops = _loops()
    quick = loops.text_of(markup, _BLOCK_NAMES, _INLINE_NAMES)
    assert quick is None or quick == text_by_expressions(markup)


# Each ASCII character at an edge of text_of's classes (white space, "&", "<" and their
# neighbours), for the run it copies eight bytes at a time (see plain_eight in
# _native.c): markup one, two or four bytes a character wide.
_EDGES = st.sampled_from(
    ["a", "Z", "0", "~", "\x7f", "\x00", "\x08", "\t", "\n", "\x0b", "\x0c", "\r", "\x0e",
     "\x1b", "\x1c", "\x1f", " ", "  ", "!", "%", "'", ";", "=", ">", "&amp;", "<b>", "<p>", "é"]
)  # fmt: skip


@settings(max_examples=600)
@given(st.lists(_EDGES, max_size=48).map("".join), st.sampled_from(["", "\u2019", "\U0001f600"]))
@example("ab cd ef gh  ij\x1ckl\x1fmn ", "")
@example("abc d efg h ijk l", "\u2019")
def test_the_compiled_text_of_reads_runs_of_plain_characters_as_the_expressions_do(
    text: str, wide: str
) -> None:
    loops = _loops()
    half = len(text) // 2
    for markup in (text + wide, wide + text, text[:half] + wide + text[half:]):
        quick = loops.text_of(markup, _BLOCK_NAMES, _INLINE_NAMES)
        assert quick is None or quick == text_by_expressions(markup)
    assert loops.text_of(text.replace("&amp;", ""), _BLOCK_NAMES, _INLINE_NAMES) is not None


def test_the_compiled_text_of_reads_what_markdown_writes() -> None:
    # Not left to the regular expressions: headings, lists, links, emphasis, tables,
    # code (Pygments' spans, its escapes), images, quotes and Markdown's entities.
    from broadsheet.render.markdown import render_markdown

    loops = _loops()
    source = """## Fiji's *vote*, and [the count](/asia/count/ "The count")

- Jakarta & Bali: 4 < 5 > 3, "quoted"
- H<sub>2</sub>O

| Year | Seats |
|:-----|------:|
| 2024 | 31 |

```python
print('a < b' and "c")
```

> A quote, `code` and ![a photograph](/a.jpg "title").
"""
    html = render_markdown(source).html
    quick = loops.text_of(html, _BLOCK_NAMES, _INLINE_NAMES)
    assert quick is not None and quick == text_by_expressions(html)
    assert "Fiji's vote, and the count" in quick and "Jakarta & Bali: 4 < 5 > 3" in quick
    assert text_of(html) == quick


_HOSTILE = r"""
from broadsheet.search._native import slice_add, slice_runs

armed = False
class Clears:  # a key whose hash empties the dict being read
    def __hash__(self):
        if armed:
            counts.clear()
        return 1
    def __eq__(self, other):
        return self is other
counts = {Clears(): 1}
armed = True
try:
    slice_add({}, bytearray(), 0, counts)
except RuntimeError:
    pass

calls = -100
class Dies:
    def __del__(self):
        table.clear()
class Swaps:  # a key whose hash puts a value in the table that empties it when replaced
    def __hash__(self):
        global calls
        calls += 1
        if calls == 2:
            dict.__setitem__(table, self, Dies())
        return 1
    def __eq__(self, other):
        return self is other
table = {}
key = Swaps()
counts = {key: 1}
calls = 0
del key
try:
    slice_add(table, bytearray(), 0, counts)
except TypeError:
    pass

import gc, struct
fired = False
terms = {"a": 0, "b": 1}
triples = bytearray(struct.pack("=3I", 0, 1, 1) + struct.pack("=3I", 1, 2, 1))
class Rewrites:  # collected when slice_runs makes its list: rewrites the triples
    def __del__(self):
        global fired
        fired = True
        triples[0:4] = struct.pack("=I", 10**6)  # (was an overflow of the heap)
        triples[12:16] = struct.pack("=I", 0)  # (was bytes left unwritten)
gc.disable()
hold = [[] for _ in range(300)]  # (no free list: the next list is a new allocation)
cycle = Rewrites()
cycle.self = cycle
del cycle
gc.set_threshold(gc.get_count()[0])
gc.enable()
got = slice_runs(terms, triples, 1, 64)
import zlib
wanted = b"".join(
    # (its CRC, then varints: the UTF-8's size, the UTF-8, one posting, its id and count)
    struct.pack("=I", zlib.crc32(term)) + bytes([1]) + term + bytes([1, number, 1])
    for term, number in [(b"a", 1), (b"b", 2)]
)
assert fired and got == [wanted], (fired, got)
print("survived")
"""


def test_keys_that_run_python_do_not_crash_adding_postings() -> None:
    # (A review's reproducers: a key's __hash__ that empties `counts`, and a replaced
    # value's __del__ that empties the table, freed what the loop still used.)
    _loops()
    result = subprocess.run(
        [sys.executable, "-c", _HOSTILE], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout == "survived\n", result.stderr


def test_a_mapping_that_overrides_lookup_is_asked_as_python_asks_it() -> None:
    loops = _loops()

    class Shouting(dict[str, str]):
        def __getitem__(self, word: str) -> str:
            return dict.get(self, word, word).upper()

    stems = Shouting(a="x")
    assert loops.count_words("a b a", stems) == count_words_python("a b a", stems)
    with pytest.raises(TypeError):
        loops.count_words("", None)
    for number in (2**32, -1):  # (no posting: the number is not looked at, as in Python)
        _PackedPostings().add(number, {})
        _ArrayPostings().add(number, {})  # (nor by either's runs)
