"""Rebuild the dev site in place, reusing every post and page that did not change."""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2

from broadsheet.config import SiteConfig, load_config
from broadsheet.content.loader import PostCache, load_posts
from broadsheet.errors import BroadsheetError
from broadsheet.locks import reading_posts
from broadsheet.paths import check_sources
from broadsheet.publish.assemble import index_site, load_site
from broadsheet.publish.cache import SignedState
from broadsheet.publish.context import BodyCache, use_site
from broadsheet.publish.render import render_pages
from broadsheet.publish.stage import Stage
from broadsheet.publish.statics import copy_static, static_files
from broadsheet.render.templates import make_environment
from broadsheet.search.index import TermStore


@dataclass(frozen=True)
class DevResult:
    ok: bool
    seconds: float
    rendered: tuple[str, ...] = ()
    written: int = 0
    error: str = ""


@dataclass
class DevBuilder:
    """Builds the site into `output` with drafts shown, touching only what changed."""

    root: Path
    output: Path
    overrides: dict[str, Any] = field(default_factory=dict)
    content_dir: Path | None = None
    error: BroadsheetError | None = None
    _posts: PostCache = field(default_factory=dict)
    _signatures: dict[str, str] = field(default_factory=dict)
    _signed: SignedState | None = None  # what `_signatures` were taken from
    _settings: SiteConfig | None = None
    _signed_env: jinja2.Environment | None = None
    _statics: set[str] = field(default_factory=set)
    _bodies: BodyCache = field(default_factory=dict)
    _env: jinja2.Environment | None = None
    _templates: dict[str, bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _terms: tempfile.TemporaryDirectory[str] | None = None
    _indexed: bool = False  # the search index in `output` matches the terms kept

    def config(self) -> SiteConfig:
        config = load_config(self.root, self.overrides)
        if self.content_dir is not None:
            config = replace(config, content_dir=str(self.content_dir))
        return config

    def rebuild(self) -> DevResult:
        started = time.perf_counter()
        with self._lock:
            try:
                with reading_posts(self.config()):  # never half an import
                    rendered, written = self._rebuild()
            except BroadsheetError as exc:
                self.error = exc
                return DevResult(False, time.perf_counter() - started, error=str(exc))
            self.error = None
        return DevResult(True, time.perf_counter() - started, tuple(rendered), written)

    def _rebuild(self) -> tuple[list[str], int]:
        config = self.config()
        folders = (config.content_dir, config.static_dir, config.templates_dir)
        check_sources([config.path(f) for f in folders])
        posts = load_posts(config.path(config.content_dir), config.zone, self._posts)
        site = load_site(config, drafts=True, posts=posts)
        env = self._environment(config.path(config.templates_dir))
        use_site(env, site, self._bodies)
        static_dir = config.path(config.static_dir)
        out = Stage(self.output)  # the dev site is rewritten in place, file by file
        copy_static(static_dir, out, {p.path for p in site.pages})
        statics = {relative for relative, _ in static_files(static_dir)}
        for gone in self._statics - statics:
            out.remove(gone)
        self._statics = statics
        if self._terms is None:
            self._terms = tempfile.TemporaryDirectory(prefix="broadsheet-serve-")
        terms = TermStore(Path(self._terms.name))
        indexed, self._indexed = self._indexed, False
        # The last signatures' state can be compared while no template or setting changed.
        same = env is self._signed_env and config == self._settings
        before = self._signed if same else None
        report = render_pages(site, env, out, self._signatures, terms=terms, before=before)
        self._signatures, self._signed = report.signatures, report.state
        self._signed_env, self._settings = env, config
        # After a rebuild that failed half-way, the kept terms may be ahead of the index.
        index_site(out, site, terms, report, whole=not indexed)
        self._indexed = True
        return report.rendered, report.written

    def _environment(self, templates: Path) -> jinja2.Environment:
        """The same Jinja environment (and its compiled templates) until a template changes."""
        sources = (
            {
                p.relative_to(templates).as_posix(): p.read_bytes()
                for p in sorted(templates.rglob("*"))
                if p.is_file()
            }
            if templates.is_dir()
            else {}
        )
        if self._env is None or sources != self._templates:
            self._env = make_environment(templates, {})
            self._templates = sources
        return self._env

    def close(self) -> None:
        if self._terms is not None:
            self._terms.cleanup()
            self._terms = None
