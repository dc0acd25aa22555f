"""The Jinja environment: autoescaping on, StrictUndefined, errors naming template and line."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
from jinja2 import nodes

from broadsheet.errors import BroadsheetError
from broadsheet.sealed import make_folder, read_sealed, write_sealed

# The compiled templates' file names. A new number sets aside those compiled before: from
# 2 on, no site helper is worked out at compile time (see build.context._per_build). The
# names also carry a hash of Jinja's version and of the options below, which shape the
# compiled code (Jinja itself checks only the template's source and its bytecode format).
COMPILED_NAMES = "__broadsheet2_{key}_%s.cache"
# Every template's output is HTML-escaped but a text file's (robots.txt: a crawler reads
# `a&amp;b` as it is). Named for the compiled templates' key (a function's repr varies).
PLAIN_TEXT = ("txt",)
OPTIONS: dict[str, Any] = {
    "autoescape": jinja2.select_autoescape(
        enabled_extensions=(), disabled_extensions=PLAIN_TEXT, default=True
    ),
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
}


def make_environment(
    templates_dir: Path, globals_: Mapping[str, Any], compiled: Path | None = None
) -> jinja2.Environment:
    """The environment for `templates_dir`. With a `compiled` folder (in the build
    cache), each template's compiled code is kept there, keyed by a hash of its source,
    so that the next build need not compile it again."""
    if not templates_dir.is_dir():
        raise BroadsheetError("the templates folder does not exist", templates_dir)
    bytecode = None
    if compiled is not None:
        try:
            make_folder(compiled, links=False)
            bytecode = _CompiledTemplates(str(compiled), compiled_names())
        except OSError:
            pass  # only saves time
    env = _Environment(
        bytecode_cache=bytecode,
        loader=_Loader(templates_dir),
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
        **OPTIONS,
    )
    env.globals.update(globals_)
    return env


class _Loader(jinja2.FileSystemLoader):
    """Templates from a folder; one that is not UTF-8 text is an error at its line."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        try:
            return super().get_source(environment, template)
        except UnicodeDecodeError as exc:
            path = Path(self.searchpath[0]) / template
            line = exc.object[: exc.start].count(b"\n") + 1
            raise BroadsheetError(
                "not UTF-8 text: save the template as UTF-8", path, line
            ) from None


class _Environment(jinja2.Environment):
    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals: a dict of the environment's, as they are when it loads,
        under its own. Jinja's ChainMap over the two is a Python mapping: each page's
        context was copied from it key by key, and each `{% from ... import %}` took a
        set difference through it, a tenth of the time a page took to render; with a
        dict, both are done in C. Globals set after a template loads would not reach it:
        Jinja asks that they not be, and the build sets all of them first (use_site)."""
        return {**self.globals, **(d or {})}


def compiled_names() -> str:
    """The pattern of the compiled templates' file names for this Jinja and these options:
    code compiled by another version of Jinja, or with other options, is never run."""
    options = {**OPTIONS, "autoescape": f"all but {PLAIN_TEXT}"}
    made = repr((jinja2.__version__, sorted(options.items()), "StrictUndefined"))
    key = hashlib.blake2b(made.encode("utf-8"), digest_size=8).hexdigest()
    return COMPILED_NAMES.format(key=key)


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja's cache of compiled templates (it checks each entry against a hash of the
    template's source), each file sealed (broadsheet.sealed): Jinja would run damaged
    code as it finds it. A file that does not verify, or cannot be read or written,
    only costs a compilation, never the build."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        payload = read_sealed(Path(self._get_cache_filename(bucket)))
        if payload is not None:
            bucket.bytecode_from_string(payload)  # (Jinja resets it if it is not its own)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            write_sealed(Path(self._get_cache_filename(bucket)), bucket.bytecode_to_string())


def render_template(
    env: jinja2.Environment, name: str, context: Mapping[str, Any], page: str | None = None
) -> str:
    """Render, turning any template mistake into an error that names the file and line
    (and the `page` being rendered, when given: the site path it is for)."""
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise syntax_error(env, exc, name) from exc
    except jinja2.TemplateNotFound as exc:  # (at the line that includes or imports it)
        filename, line = _template_frame(env, exc)
        raise BroadsheetError(
            f"template '{exc.name}' not found", _template_path(env, filename or name), line
        ) from exc
    except BroadsheetError:
        raise  # already names its file, e.g. from a nested render
    except Exception as exc:  # any failure while rendering: find the template frame
        filename, line = _template_frame(env, exc)
        if isinstance(exc, RecursionError):  # (a template that extends or includes itself)
            message = "template error: templates extend, include or call each other in a loop"
        else:
            message = f"template error: {type(exc).__name__}: {exc}"
        if page is not None:  # (a mistake may show on some pages only: say which)
            message += f" (rendering {page})"
        raise BroadsheetError(message, _template_path(env, filename or name), line) from exc


def syntax_error(
    env: jinja2.Environment, exc: jinja2.TemplateSyntaxError, name: str
) -> BroadsheetError:
    """The error for a template that does not parse: its file and line."""
    where = _template_path(env, exc.filename or name)
    return BroadsheetError(f"template error: {exc.message}", where, exc.lineno)


def _template_path(env: jinja2.Environment, name: str) -> Path:
    path = Path(name)
    if path.is_absolute():
        return path
    loader = env.loader
    if isinstance(loader, jinja2.FileSystemLoader):
        return Path(loader.searchpath[0]) / name
    return path


def _template_frame(env: jinja2.Environment, exc: BaseException) -> tuple[str | None, int | None]:
    """The innermost template file and line in the traceback (Jinja maps lines back):
    a frame of code compiled from a file in the templates' folder (of any name:
    robots.txt, _redirects)."""
    folder = _template_path(env, "x").parent
    found: tuple[str | None, int | None] = (None, None)
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if Path(filename).parent == folder or filename.endswith((".html", ".xml")):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def template_errors(templates_dir: Path) -> list[BroadsheetError]:
    """What `broadsheet check` finds wrong with the templates, before any page is
    rendered: each that does not parse (or is not UTF-8) at its line; each `extends`,
    `include` or `import` of a template that does not exist; and templates that extend
    each other in a loop. (Mistakes that show only as a page renders, such as a name
    no page has, are the build's to find.)"""
    if not templates_dir.is_dir():
        return [BroadsheetError("the templates folder does not exist", templates_dir)]
    env = make_environment(templates_dir, {})
    names = set(env.list_templates())
    errors: list[BroadsheetError] = []
    parents: dict[str, tuple[str, int]] = {}  # what each template extends, and where
    for name in sorted(names):
        try:
            source, filename, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
            tree = env.parse(source, name, filename)
        except jinja2.TemplateSyntaxError as exc:
            errors.append(syntax_error(env, exc, name))
            continue
        except BroadsheetError as exc:
            errors.append(exc)
            continue
        except (OSError, jinja2.TemplateNotFound):
            continue  # unreadable, or no file (a pipe): `check`'s walk of the sources says so
        path = _template_path(env, name)
        for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
            wanted = getattr(node, "template", None)
            if not isinstance(wanted, nodes.Const) or not isinstance(wanted.value, str):
                continue  # (a name worked out as the page renders)
            if wanted.value not in names and not getattr(node, "ignore_missing", False):
                errors.append(
                    BroadsheetError(f"template '{wanted.value}' not found", path, node.lineno)
                )
            elif isinstance(node, nodes.Extends) and any(n is node for n in tree.body):
                parents.setdefault(name, (wanted.value, node.lineno))  # (the first rules)
    for name in sorted(parents):
        seen, at = [name], parents[name][0]
        while at in parents and at not in seen:
            seen.append(at)
            at = parents[at][0]
        if at == name and name == min(seen):  # (a loop is named once, from its first)
            loop = " -> ".join([*seen, name])
            message = f"template error: templates extend each other in a loop: {loop}"
            errors.append(BroadsheetError(message, _template_path(env, name), parents[name][1]))
    return errors
