"""The command line: `broadsheet import|build ...`; errors print as path:line, exit code 1."""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from broadsheet import __version__
from broadsheet.errors import BroadsheetError, display_path

if TYPE_CHECKING:
    from broadsheet.config import SiteConfig
    from broadsheet.ingest.importer import FileReport

COMMANDS = ("import", "build", "new", "serve", "check", "mv", "gone")
CONTENT_HELP = "content folder (default: content/)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        return int(args.run(args))
    except BroadsheetError as exc:
        from broadsheet.stops import stopped_in

        if stopped_in(exc):  # (what a clean-up raised as Ctrl-C unwound: not the user's)
            print("broadsheet: interrupted", file=sys.stderr)
            return 130
        print(_error_text(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:  # a build's says where the site is
        print(f"broadsheet: {str(exc) or 'interrupted'}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `broadsheet import ... | head`
        with contextlib.suppress(OSError):  # (stderr may be a closed pipe too)
            sys.stderr.close()
        return 0


def command() -> NoReturn:
    """The `broadsheet` program: `main()`, then `finish()`."""
    finish(main())


def finish(code: int) -> NoReturn:
    """End the process with `code`, leaving the garbage uncollected and the interpreter
    not torn down.

    A build leaves about a million objects behind at 10,000 articles (posts, pages,
    templates), and Python's last garbage collection at exit would walk them all: 0.2 s,
    a tenth of an edit's rebuild. The process is ending anyway, so it ends here, once
    what it printed is flushed (os._exit; output that cannot be written fails it): the
    collection, and the freeing of every
    module and what it holds, took 8 to 10 ms of each build. Every command has closed
    or removed what it opened by then (its stage, temporary folders, locks, worker
    processes); nothing of Broadsheet's waits on exit handlers. Only the programs'
    entry points call this; `main()` itself leaves the garbage collector alone.
    """
    gc.freeze()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a reader gone (`| head`), a closed stream
            pass
        except OSError as exc:  # what was printed is lost (a full disk): not a success
            with contextlib.suppress(OSError):
                os.write(2, f"broadsheet: output not written: {exc}\n".encode())
            code = code or 120  # (as Python's own exit gives for it)
    os._exit(code)


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM unwinds like Ctrl-C: the stage is removed, site kept


def _error_text(exc: BroadsheetError) -> str:
    lines = str(exc).splitlines() or [exc.message]
    return "\n".join(f"error: {line}" for line in lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="broadsheet", description="Build a news archive as a static site."
    )
    parser.add_argument("--version", action="version", version=f"broadsheet {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    imp = commands.add_parser("import", help="turn raw scraped text into Markdown posts")
    imp.add_argument(
        "raw_files", nargs="+", type=Path, metavar="RAW_FILE", help="a raw file, or - for stdin"
    )
    imp.add_argument(
        "--content", type=Path, default=None, help="content folder (default: content/)"
    )
    imp.add_argument(
        "--force", action="store_true", help="overwrite posts that were edited after import"
    )
    imp.set_defaults(run=_run_import)

    build = commands.add_parser("build", help="build the site into site/")
    build.add_argument(
        "--content", type=Path, default=None, help="content folder (default: content/)"
    )
    build.add_argument("--output", type=Path, default=None, help="output folder (default: site/)")
    build.add_argument("--base-url", default=None, help="the URL the site is served from")
    build.add_argument("--quiet", action="store_true", help="print nothing on success")
    build.add_argument(
        "--drafts", action="store_true", help="include drafts and scheduled (future) posts"
    )
    build.add_argument(
        "--jobs", type=_jobs, default=None, help="render in N processes (default: all cores)"
    )
    build.add_argument(
        "--frozen-urls",
        action="store_true",
        help="never write the published-URL record; fail on a published article it lacks (CI)",
    )
    build.set_defaults(run=_run_build)

    new = commands.add_parser("new", help="start a new article (a draft dated now)")
    new.add_argument("title", metavar="HEADLINE")
    new.add_argument("--section", required=True, help="the section's folder, e.g. asia")
    new.add_argument("--author", default=None)
    new.add_argument("--tags", default="", help="comma-separated topics, e.g. trade,energy")
    new.add_argument(
        "--new-section",
        action="store_true",
        help="start the section if it does not exist yet (its folder, and its settings line)",
    )
    new.add_argument(
        "--bundle",
        action="store_true",
        help="start it as a page bundle: a folder for the article and its photos and files",
    )
    new.set_defaults(run=_run_new)

    serve = commands.add_parser("serve", help="serve the site with live reload while you write")
    serve.add_argument("--host", type=_host, default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000, help="0 picks a free port")
    serve.add_argument("--content", type=Path, default=None, help=CONTENT_HELP)
    serve.set_defaults(run=_run_serve)

    check = commands.add_parser("check", help="validate every post and internal link")
    check.add_argument("--content", type=Path, default=None, help=CONTENT_HELP)
    check.set_defaults(run=_run_check)

    mv = commands.add_parser(
        "mv", help="move or rename an article (or a section), keeping its old URL as an alias"
    )
    mv.add_argument("post", type=Path, metavar="POST", help="a post, its bundle, or a section")
    mv.add_argument("--slug", default=None, help="the article's new slug")
    mv.add_argument("--section", default=None, help="the section to move it (or them) to")
    mv.add_argument(
        "--new-section", action="store_true", help="start the --section if there is none yet"
    )
    mv.add_argument("--content", type=Path, default=None, help=CONTENT_HELP)
    mv.set_defaults(run=_run_mv)

    gone = commands.add_parser("gone", help="retire a published URL on purpose (it will 404)")
    gone.add_argument("urls", nargs="+", metavar="URL", help="a site path, e.g. /asia/old-slug/")
    gone.add_argument("--content", type=Path, default=None, help=CONTENT_HELP)
    gone.set_defaults(run=_run_gone)
    return parser


def _project_config(args: argparse.Namespace, **overrides: object) -> SiteConfig:
    """The settings of the project in the working directory, with command-line overrides."""
    from broadsheet.config import find_root, load_config

    root = find_root(Path.cwd())
    config = load_config(root, {k: v for k, v in overrides.items() if v is not None})
    if getattr(args, "content", None) is not None:
        from dataclasses import replace

        from broadsheet.paths import resolve

        config = replace(config, content_dir=str(resolve(args.content)))
    return config


def _run_import(args: argparse.Namespace) -> int:
    from broadsheet.ingest.importer import import_files
    from broadsheet.stops import Interrupted

    config = _project_config(args)
    try:
        reports = import_files(
            args.raw_files,
            config.path(config.content_dir),
            force=args.force,
            wait=lambda message: print(message, file=sys.stderr, flush=True),
        )
    except Interrupted as stopped:  # while it wrote: it finished writing first
        _report_import(stopped.done)
        print("broadsheet: interrupted once the import was written, whole", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("broadsheet: import interrupted; nothing was imported", file=sys.stderr)
        return 130
    _report_import(reports)
    return 0


def _report_import(reports: list[FileReport]) -> None:
    from broadsheet.ingest.rawtext import source_name

    for report in reports:
        name = source_name(report.source)
        print(f"{name if name == '<stdin>' else display_path(report.source)}: {_summary(report)}")
        rows: list[tuple[str, list[Path] | list[str], str]] = [
            ("wrote", report.written, ""),
            ("updated", report.updated, ""),
            ("unchanged", report.unchanged, ""),
            ("duplicate", report.duplicates, ": skipped"),
            ("kept", report.kept_edits, ": edited since import; --force overwrites it"),
            ("note", report.notes, ""),
        ]
        for label, items, suffix in rows:
            for item in items:
                shown = display_path(item) if isinstance(item, Path) else item
                print(f"  {label:<9} {shown}{suffix}")
        if report.duplicate_count > len(report.duplicates):
            print(f"  duplicate ... and {report.duplicate_count - len(report.duplicates)} more")
        print(f"  {'lines':<9} {_line_summary(report)}")


def _summary(report: FileReport) -> str:
    if report.articles == 0:
        return "no articles found"
    parts = [
        f"{report.articles} article{'s' if report.articles != 1 else ''}",
        f"{len(report.written)} written",
        f"{len(report.updated)} updated",
        f"{len(report.unchanged)} unchanged",
        f"{report.duplicate_count} duplicate{'s' if report.duplicate_count != 1 else ''} skipped",
    ]
    if report.kept_edits:
        parts.append(f"{len(report.kept_edits)} edited post(s) kept")
    return ", ".join(parts)


def _line_summary(report: FileReport) -> str:
    counts = report.counts
    return (
        f"{counts.lines} = {counts.posted} in posts + {counts.chrome} chrome skipped "
        f"+ {counts.blank} blank + {counts.outside} outside any article"
    )


def _run_build(args: argparse.Namespace) -> int:
    from broadsheet.publish.hosting import megabytes
    from broadsheet.publish.pipeline import build

    config = _project_config(args, base_url=args.base_url)
    show = not args.quiet and sys.stdout.isatty()
    progress = ProgressBar(sys.stderr) if not args.quiet and sys.stderr.isatty() else None
    result = build(
        config,
        output=args.output,
        drafts=args.drafts,
        progress=progress,
        jobs=args.jobs,
        wait=lambda message: print(message, file=sys.stderr, flush=True),
        urls="frozen" if args.frozen_urls else "record",
    )
    if progress is not None:
        progress.finish()
    size = f", {megabytes(result.size.total)}" if result.size is not None else ""
    if show:
        print(
            f"built {display_path(result.output)}/: {result.articles} articles, "
            f"{result.pages} pages ({result.written} written, {result.unchanged} unchanged)"
            f"{size} in {result.seconds:.2f} s"
        )
    for warning in result.size.warnings() if result.size is not None else []:
        print(warning, file=sys.stderr)
    return 0


class ProgressBar:
    """A counter on one terminal line, redrawn at most every 1% of the pages."""

    def __init__(self, stream: TextIO, minimum: int = 200):
        self.stream = stream
        self.minimum = minimum
        self.shown = False
        self.step = 1

    def __call__(self, done: int, total: int) -> None:
        if total < self.minimum:
            return
        self.step = max(1, total // 100)
        if done % self.step == 0 or done == total:
            width = 30
            filled = width * done // total
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\rrendering [{bar}] {done}/{total} pages")
            self.stream.flush()
            self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


MOST_JOBS = 256  # far past any machine's cores: more only forks processes to no end


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MOST_JOBS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of processes: a whole number from 1 to {MOST_JOBS}"
        )
    return value


def _host(text: str) -> str:
    if not text.strip() or any(c.isspace() or c in "/?#@" for c in text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a host: a name or address such as 127.0.0.1 or 0.0.0.0"
        )
    return text


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: 1 to 65535, or 0 for a free one")
    return value


def _run_new(args: argparse.Namespace) -> int:
    from broadsheet.author.new import known_sections, new_post

    config = _project_config(args)
    tags = tuple(t.strip() for t in args.tags.split(",") if t.strip())
    known = known_sections(config)
    path = new_post(
        config,
        args.title,
        args.section,
        author=args.author,
        tags=tags,
        new_section=args.new_section,
        bundle=args.bundle,
    )
    section = path.parent.parent if args.bundle else path.parent
    if section.name not in known:
        listed = ", listed in pyproject.toml" if config.sections else ""
        print(
            f"started the section '{section.name}' ({display_path(section)}/{listed})",
            file=sys.stderr,
        )
    if args.bundle:
        print(f"put its photos and files in {display_path(path.parent)}/", file=sys.stderr)
    print(display_path(path))
    return 0


def _run_serve(args: argparse.Namespace) -> int:
    from broadsheet.config import find_root, load_config
    from broadsheet.serve.server import serve

    root = find_root(Path.cwd())
    load_config(root)  # settings errors stop here, before a server starts
    from broadsheet.paths import resolve

    content = resolve(args.content) if args.content is not None else None
    return serve(root, host=args.host, port=args.port, content_dir=content)


def _run_check(args: argparse.Namespace) -> int:
    from broadsheet.author.check import check_content

    config = _project_config(args)
    problems, checked = check_content(config, record=True)
    for problem in problems:
        print(problem)
    errors = sum(not p.warning for p in problems)
    warnings = len(problems) - errors
    if errors:
        print(f"{errors} problem(s), {warnings} warning(s) in {checked} posts", file=sys.stderr)
        return 1
    print(f"ok: {checked} posts checked, {warnings} warning(s)")
    return 0


def _run_mv(args: argparse.Namespace) -> int:
    from broadsheet.author.move import move
    from broadsheet.stops import Interrupted

    config = _project_config(args)
    wait = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    try:
        moved = move(
            config,
            args.post,
            slug=args.slug,
            section=args.section,
            new_section=args.new_section,
            wait=wait,
        )
    except Interrupted as stopped:  # while it wrote: it finished writing first
        print("\n".join(stopped.done))
        print("broadsheet: interrupted once the move was written, whole", file=sys.stderr)
        return 130
    for line in moved:
        print(line)
    return 0


def _run_gone(args: argparse.Namespace) -> int:
    from broadsheet.author.move import retire

    config = _project_config(args)
    for line in retire(config, args.urls):
        print(line)
    return 0


def build_py_main(argv: Sequence[str]) -> int:
    """`python build.py [ARGS]` is `broadsheet build [ARGS]`; `python build.py CMD ...` runs CMD."""
    args = list(argv)
    if not args or args[0] not in (*COMMANDS, "-h", "--help", "--version"):
        args = ["build", *args]
    return main(args)


if __name__ == "__main__":
    finish(main())
