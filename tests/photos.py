"""A project with photographs for the tests: page bundles, flat posts with a photo beside
them, site-wide images in static/; tiny images made here, so builds stay fast."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from tests.images.makers import SECRET, gps_exif, jpeg, photo

ARCHIVE = """\
[tool.broadsheet]
title = "Test Archive"
base_url = "https://example.test/archive/"
per_page = 10

[tool.broadsheet.images]
widths = [40, 80]

[tool.broadsheet.sections]
asia = "Asia"
america = "America"
"""

BUNDLE = """\
---
title: Boats wait out the storm
date: 2025-02-01
author: Jane Roe
image: harbour.jpg
image_alt: Fishing boats moored in a grey harbour
image_caption: The harbour at dawn.
image_credit: Ana Ruiz
---

The fleet stayed in port for a third day.

![Nets drying on the quay](nets.png "Nets dried on the quay.")

Read [the harbour master's report](report.pdf) and the [figures](data/catch.csv).
"""


def photo_bytes(width: int = 120, height: int = 90, seed: int = 0) -> bytes:
    """A small photo-like JPEG that carries a GPS position (never to be published)."""
    return jpeg(photo(width, height, seed), exif=gps_exif())


def png_bytes(
    width: int = 60, height: int = 40, colour: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def photo_project(root: Path) -> Path:
    """`root` (a project, see tests.conftest) served under /archive/, with a bundle of
    a featured photo, a photo in its text, a PDF and a CSV."""
    (root / "pyproject.toml").write_text(ARCHIVE, encoding="utf-8")
    bundle = root / "content/asia/boats"
    (bundle / "data").mkdir(parents=True)
    (bundle / "index.md").write_text(BUNDLE, encoding="utf-8")
    (bundle / "harbour.jpg").write_bytes(photo_bytes())
    (bundle / "nets.png").write_bytes(png_bytes())
    (bundle / "report.pdf").write_bytes(b"%PDF-1.4\n% the harbour master's report\n")
    (bundle / "data/catch.csv").write_bytes(b"day,tonnes\n1,0\n")
    return root


__all__ = ["SECRET", "photo_bytes", "photo_project", "png_bytes"]
