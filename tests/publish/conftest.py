"""Fixtures shared by the publishing tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def small(project: Path) -> Path:
    """The project with 12 generated articles (a module may define its own `small`)."""
    from benchmarks.corpus import write_corpus

    write_corpus(project / "content", 12)
    return project
