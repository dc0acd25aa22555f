"""A tripwire for the image cache, which is kept under a recipe number (store.RECIPE),
not under the code that made its files (broadsheet.codeversion keys the build cache so):
re-encoding every photo of an archive on any change to Broadsheet would cost hours.
So a change to the code that makes the files must say whether what it makes changed."""

from __future__ import annotations

import hashlib

from broadsheet.images.store import RECIPE
from tests.conftest import REPO

# What the cached files are made by: decoding, colour, resizing, cropping and encoding
# (encode.py), reading headers (header.py) and stripping metadata (strip.py).
MAKERS = ("encode.py", "header.py", "strip.py")
RECORDED = (2, "ddf1861ef1e5958b")


def test_the_code_that_makes_cached_images_is_the_recipe_recorded() -> None:
    digest = hashlib.blake2b(digest_size=8)
    for name in MAKERS:
        digest.update((REPO / "broadsheet/images" / name).read_bytes())
    assert (RECIPE, digest.hexdigest()) == RECORDED, (
        "the code that makes the image cache's files changed: if the same photo and "
        "settings now make other bytes, raise RECIPE in broadsheet/images/store.py; "
        "then record the new digest here"
    )
