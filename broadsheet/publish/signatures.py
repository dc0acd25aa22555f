"""What each output depends on, as one hash: equal signatures mean identical output.

A page's signature covers the site-wide data every page shows (settings, the section
navigation), the templates it is rendered with (its own, those it extends, imports or
includes, and the card template when it lists articles), and the data in its context,
where a post stands for a hash of its whole file. So an edit to one post changes the
signatures of exactly the pages that show it: its article, its neighbours' (previous and
next links), the listings and feeds it is in, and the pages that list it as related.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

import jinja2
from jinja2 import meta, nodes

from broadsheet.config import zone_stamp
from broadsheet.content.post import Post, places_of
from broadsheet.content.visibility import status
from broadsheet.outputs.listings import Listing
from broadsheet.outputs.page import Page
from broadsheet.outputs.pagination import Pager
from broadsheet.outputs.site import Judged, Site, WholePlan
from broadsheet.outputs.sitemaps import SitemapEntry
from broadsheet.publish.cache import SignedState
from broadsheet.render.templates import syntax_error

CARD_TEMPLATE = "_card.html"
SHOWS_LISTED = "+posts"  # in the key of a template that may show a listing's posts
SHOWS_SIZES = "+sizes"  # in the key of one that may show how many, but not which
# ends the key of one that may do either with the `sections` global (see _sections_named)
SHOWS_SECTIONS = "+sections"
SHOWS_CARDS = "+cards"  # ends the key of one that uses CARD_TEMPLATE, after any other mark
ANY_TEMPLATE = "*"  # what a template names whose name is worked out as it renders


def fingerprint(value: Any, sized: bool = True) -> Any:
    """A plain, comparable stand-in for template data. A listing stands for its name and
    place, and for how many posts it holds only if `sized`: for a template that can
    show no count (see `_listed_use`), a new post in a section changes no page of the
    section's other articles."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is Post:  # its whole file, and where it is
        return _post_print(value)
    if kind is tuple or kind is list:
        return tuple([fingerprint(item, sized) for item in value])
    if kind is dict:  # contexts are built in a fixed key order
        return tuple([(k, fingerprint(v, sized)) for k, v in value.items()])
    if kind is Listing:
        count = len(value.posts) if sized else None
        return ("listing", value.kind, value.slug, value.name, value.url_path, count)
    if kind is Pager:  # wholly decided by these: its links are derived from them
        return ("pager", value.url_path, value.number, value.total)
    if kind is datetime:
        return value.isoformat()
    if kind is SitemapEntry:  # sitemaps hold tens of thousands
        return (value.url_path, value.lastmod.isoformat() if value.lastmod else None)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _field_names(type(value))
        return (type(value).__name__, *(fingerprint(getattr(value, n), sized) for n in names))
    if isinstance(value, (list, tuple)):
        return tuple(fingerprint(item, sized) for item in value)
    return value


def _post_print(post: Post) -> str:
    return f"post:{post.digest}{post.media}:{post.section_slug}/{post.slug}"


class _Printer:
    """`fingerprint`, the same values, made faster for one site's pages: each post's is
    made once (when first met), and the lists that hold only posts (listings, related
    articles) or only sitemap entries are turned into theirs without a call for each.
    `sized`: as `fingerprint` takes it; `unsized()` is the same printer without sizes."""

    def __init__(self, sized: bool = True, sharing: _Printer | None = None) -> None:
        self.sized = sized
        # id(post) -> its fingerprint, and the posts known (so no other object takes
        # their ids): shared with the printer this one is made from
        self.known: dict[int, str] = {} if sharing is None else sharing.known
        self._kept: list[Post] = [] if sharing is None else sharing._kept

    def unsized(self) -> _Printer:
        return _Printer(sized=False, sharing=self)

    def post(self, post: Post) -> str:
        found = self.known.get(id(post))
        if found is None:
            found = self.known[id(post)] = _post_print(post)
            self._kept.append(post)
        return found

    def __call__(self, value: Any) -> Any:
        kind = type(value)
        if kind is dict:  # a page's context
            return tuple([(k, self(v)) for k, v in value.items()])
        if kind is Post:
            return self.post(value)
        if kind is tuple or kind is list:
            if not value:
                return ()
            first = type(value[0])
            if first is Post:
                try:  # (no other object alive has a known post's id)
                    return tuple(map(self.known.__getitem__, map(id, value)))
                except KeyError:
                    if all(type(item) is Post for item in value):
                        return tuple([self.post(item) for item in value])
            elif first is SitemapEntry:
                return tuple(
                    [
                        (e.url_path, e.lastmod.isoformat() if e.lastmod else None)
                        if type(e) is SitemapEntry
                        else self(e)
                        for e in value
                    ]
                )
            return tuple([self(item) for item in value])
        return fingerprint(value, self.sized)


def mentions(value: Any, posts: set[int]) -> bool:
    """Whether `value`'s fingerprint includes one of `posts` (given by id)."""
    kind = type(value)
    if kind is Post:
        return id(value) in posts
    items: Any
    if kind is dict:
        items = value.values()
    elif kind is tuple or kind is list:
        items = value
    elif kind in _OPAQUE or value is None:
        return False
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [getattr(value, n) for n in _field_names(type(value))]
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        return False
    for item in items:  # the usual items are looked at here, without a call
        inner = type(item)
        if inner is Post:
            if id(item) in posts:
                return True
        elif inner in _OPAQUE or item is None:
            continue
        elif mentions(item, posts):
            return True
    return False


def _shows(page: Page, posts: set[int]) -> bool:
    """Whether `page` is one of `posts`' (given by id) or shows one of them."""
    return (page.post is not None and id(page.post) in posts) or mentions(page.context, posts)


# Fingerprinted without the posts they hold (see `fingerprint`).
_OPAQUE = frozenset({Listing, Pager, SitemapEntry, datetime, str, int, bool})


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind))


@lru_cache(maxsize=256)
def _references(source: str) -> tuple[tuple[str, ...], bool, str, bool]:
    """The templates a template's source names, whether it uses `card` (called, or as a
    filter, or named as one), what it may show of a listing's posts (see `_listed_use`),
    and whether it uses the `sections` global other than for their names (see
    `_sections_named`)."""
    # A bare environment: in the build's own, global names such as `card` would not
    # show up among the template's free names.
    # Only the parse tree is walked: compiling each template just to list the names it
    # reads would cost more than signing every page. A template that sets a `card` of
    # its own is taken to use the global one, which can only widen its signature.
    tree = jinja2.Environment().parse(source)
    # (None: a name worked out as it renders, `{% include part ~ ".html" %}`: any one)
    referenced = tuple(t or ANY_TEMPLATE for t in meta.find_referenced_templates(tree))
    # (named as a string too: posts|map("card"), a review found its pages stale)
    uses_card = (
        any(name.name == "card" for name in tree.find_all(nodes.Name))
        or any(used.name == "card" for used in tree.find_all(nodes.Filter))
        or any(const.value == "card" for const in tree.find_all(nodes.Const))
    )
    return referenced, uses_card, _listed_use(tree), not _sections_named(tree)


# What a template may read of a listing that is no part of its posts.
_LISTING_NAMES = frozenset({"kind", "slug", "name", "url_path", "feed_path"})


def _sections_named(tree: nodes.Template) -> bool:
    """Whether the template uses the `sections` global only to name them: each use is
    the list of a plain `{% for item in sections %}` loop whose body reads of `item`
    only what no post decides (its name, slug, path). Then, though the template may
    show a listing's count (its page's own), no section's count reaches it: every
    page's navigation lists the sections, and a new article would otherwise change
    every listing page of every section, author, tag and month (5,700 of them at 10,000
    articles, rendered again for nothing). Taken narrowly: any other use of the name
    (passed to a macro, filtered, set, a loop with a condition) is not naming."""
    named: set[int] = set()
    for loop in tree.find_all(nodes.For):
        it, target = loop.iter, loop.target
        if not (isinstance(it, nodes.Name) and it.name == "sections"):
            continue
        if loop.test is not None or loop.recursive or not isinstance(target, nodes.Name):
            return False
        for part in (*loop.body, *loop.else_):
            if isinstance(part, _SEES_THE_LOOP) or any(part.find_all(_SEES_THE_LOOP)):
                return False  # an include, a scoped block...: other source sees `item`
            names = _plain_reads(part, target.name, _LISTING_NAMES)
            counters = _plain_reads(part, "loop", _LOOP_COUNTERS)
            for used in part.find_all(nodes.Name):
                if used.name == target.name and id(used) not in names:
                    return False
                if used.name == "loop" and id(used) not in counters:
                    return False  # loop.previtem, loop.nextitem: another section whole
        named.add(id(it))
    return all(id(name) in named for name in tree.find_all(nodes.Name) if name.name == "sections")


# What in a loop's body shows its variables to source the loop's template does not
# hold (an included template, a scoped block that a child template fills in) or that
# this analysis does not follow (macros, call blocks, imports, blocks): taken as
# showing them whole.
_SEES_THE_LOOP = (
    nodes.Include,
    nodes.Block,
    nodes.Macro,
    nodes.CallBlock,
    nodes.Import,
    nodes.FromImport,
    nodes.Extends,
)

# What a template may read of a loop over the sections and still name them only.
_LOOP_COUNTERS = frozenset(
    {"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0"}
)


def _plain_reads(part: nodes.Node, name: str, attributes: frozenset[str]) -> set[int]:
    """The uses of the name `name` in `part` that read one of `attributes` of it and
    nothing else (`item.name`, `loop.index`), by id."""
    return {
        id(read.node)
        for read in part.find_all(nodes.Getattr)
        if isinstance(read.node, nodes.Name) and read.node.name == name and read.attr in attributes
    }


# What a template may do with a listing's posts and still show only how many there
# are: count them, or ask whether there are any.
_COUNTING = frozenset({"length", "count"})


def _listed_use(tree: nodes.Template) -> str:
    """What a template may show of the posts a listing holds (a section in `sections`,
    or a listing in a page's context): SHOWS_LISTED if it may show them (`posts` other
    than counted or tested for any), SHOWS_SIZES if it may show only how many there are,
    "" if it cannot tell even that. A listing is fingerprinted by its name and place
    alone: a section's link in every page's navigation would otherwise make each page
    depend on every post, and its count on each new one. So a page is signed with its
    listings' counts and the sections' only if its template may show a count, and with
    every post only if it may show the posts.

    Taken widely: `posts` read any other way, even named as a string (`listing["posts"]`,
    `map(attribute="posts.0.title")`), any `attr` filter, item worked out as the page
    renders (`x[name]`), attribute named by a variable (`map(attribute=name)`,
    `join(", ", name)`, `map(*names)`), by a format string (`"{0.posts}".format(x)`),
    or name beginning with an underscore (`x.__getstate__()`, and so anything the
    `card` global holds: see Cards) counts as shown. (A listing printed whole shows
    neither: see Listing.)"""
    counted: set[int] = set()
    for used in tree.find_all(nodes.Filter):
        if used.name in _COUNTING and used.node is not None:
            counted.add(id(used.node))
    for branch in tree.find_all(nodes.If):
        counted.add(id(branch.test))
    for choice in tree.find_all(nodes.CondExpr):
        counted.add(id(choice.test))
    for negation in tree.find_all(nodes.Not):
        counted.add(id(negation.node))
    calls: list[nodes.Call | nodes.Filter | nodes.Test] = [
        *tree.find_all(nodes.Call),
        *tree.find_all(nodes.Filter),
        *tree.find_all(nodes.Test),
    ]
    for call in calls:
        if call.dyn_args is not None or call.dyn_kwargs is not None:
            return SHOWS_LISTED  # map(*names), map(**{"attribute": name}): any attribute
    sized = False
    for read in tree.find_all(nodes.Getattr):
        if read.attr.startswith("_") or read.attr in _FORMATTING:
            return SHOWS_LISTED
        if read.attr == "posts":
            if id(read) not in counted:
                return SHOWS_LISTED
            sized = True
    named: set[int] = set()
    for item in tree.find_all(nodes.Getitem):
        if not isinstance(item.arg, nodes.Const):  # a name worked out as it renders
            return SHOWS_LISTED
        if item.arg.value == "posts":
            if id(item) not in counted:
                return SHOWS_LISTED
            named.add(id(item.arg))
            sized = True
        elif isinstance(item.arg.value, str) and item.arg.value.startswith("_"):
            return SHOWS_LISTED
    for used in tree.find_all(nodes.Filter):  # attr(name), map(attribute=name): any
        if used.name == "attr":
            return SHOWS_LISTED
        where = _NAMING.get(used.name)
        if where is not None:
            given = [pair.value for pair in used.kwargs if pair.key == "attribute"]
            for arg in (*used.args[where : where + 1], *given):
                if not isinstance(arg, nodes.Const) or str(arg.value).startswith("_"):
                    return SHOWS_LISTED
                if used.name == "map" and arg.value == "attr":
                    return SHOWS_LISTED
    if any(  # "posts" as a name, or in a path: map(attribute="posts.0.title")
        isinstance(const.value, str)
        and "posts" in const.value.split(".")
        and id(const) not in named
        for const in tree.find_all(nodes.Const)
    ):
        return SHOWS_LISTED
    return SHOWS_SIZES if sized else ""


# str's methods that read attributes named in the string ("{0.posts}".format(section)).
_FORMATTING = frozenset({"format", "format_map"})

# Filters that take an attribute's name (or, map, a filter's): where it may be given
# other than as `attribute=` (its place among the arguments).
_NAMING = {
    "join": 1,
    "map": 0,
    "selectattr": 0,
    "rejectattr": 0,
    "sum": 0,
    "groupby": 0,
    "sort": 2,
    "unique": 1,
    "min": 1,
    "max": 1,
}


def _marks(key: str) -> tuple[str, bool]:
    """What a template's key says it may show of listings' posts (SHOWS_LISTED,
    SHOWS_SIZES or ""), and whether it may show any of the `sections` global's."""
    key = key.removesuffix(SHOWS_CARDS)
    every = key.endswith(SHOWS_SECTIONS)
    key = key.removesuffix(SHOWS_SECTIONS)
    shown = key[-len(SHOWS_LISTED) :]  # (both marks are as long)
    return (shown if shown in (SHOWS_LISTED, SHOWS_SIZES) else ""), every


def _statuses(site: Site) -> tuple[tuple[str, str], ...]:
    """Posts shown with a Draft or Scheduled badge: a badge changes the pages they are on."""
    if site.now is None:
        return ()
    return tuple(
        (str(post.path), label) for post in site.posts if (label := status(post, site.now))
    )


def _post_states(site: Site) -> dict[str, str]:
    """Each shown post's url_path -> its file's digest (with its images') and the places,
    in reading order, of the posts its article lists as related: all that its pages
    can show of it that the site's places (`places_of`) do not decide."""
    ranked = site.related
    if len(ranked) != len(site.posts):  # a site planned otherwise: from its pages
        index = {id(post): n for n, post in enumerate(site.posts)}
        found = {
            id(page.post): tuple([index.get(id(other), -1) for other in page.context["related"]])
            for page in site.pages
            if page.post is not None and "related" in page.context
        }
        ranked = tuple(found.get(id(post), ()) for post in site.posts)
    formats = _ROW_FORMATS
    return {
        p.url_path: (formats[len(row)] if len(row) < len(formats) else _row_format(len(row)))
        % (p.digest, p.media, *row)
        for p, row in zip(site.posts, ranked, strict=True)
    }


def _row_format(count: int) -> str:
    """The format of a post's state whose article lists `count` related articles:
    "digest media@3,17,5" (one format for all its parts: a join of each list took a
    third of the states' time)."""
    return "%s%s@" + ",".join(["%d"] * count)


_ROW_FORMATS = tuple(_row_format(count) for count in range(8))


def _templates(site: Site) -> set[str]:
    return {page.template for page in site.pages}


def site_key(site: Site) -> str:
    """What every page's signature starts from: the settings and sections every page
    may show, and the posts shown with a badge."""
    config = site.config
    return repr(
        (
            config.title,
            config.description,
            config.base_url,
            config.language,
            zone_stamp(config.timezone),  # (its rules too: a tzdata update)
            config.per_page,
            config.feed_size,
            tuple((s.slug, s.name, s.url_path) for s in site.sections),
            _statuses(site),
        )
    )


@dataclasses.dataclass(frozen=True)
class Since:
    """The last build's plan, as its signatures' state (`before`) and its pages' paths
    give it: what `plan_site` goes by to plan only the pages an edit can change."""

    before: SignedState
    whole: WholePlan

    def edited(self, site: Site) -> Judged | None:
        """The posts of `site` (by id) edited since, when Signer.sign_all would go by the
        last build's signatures: the same site-wide key and plan shape, and no template
        that can show any listing's posts (whose pages are signed again after any edit).
        The signer of the plan goes by what is found here (see Signer._judged)."""
        before = self.before
        if any(_marks(key)[0] == SHOWS_LISTED for key in before.templates.values()):
            return None
        key = site_key(site)
        if _shape_of(key, site.posts) != (before.site, before.shape):
            return None
        states = _post_states(site)
        return Judged(_edited(site.posts, before, states), states, key, before)


def _shape_of(key: str, posts: tuple[Post, ...]) -> tuple[str, str]:
    """Hashes of the site-wide `key` and of the plan's shape (see SignedState)."""
    return hashlib.blake2b(key.encode("utf-8"), digest_size=16).hexdigest(), places_of(posts)


def _edited(posts: tuple[Post, ...], before: SignedState, states: dict[str, str]) -> set[int]:
    """The `posts` (by id) whose state (see _post_states) is not the one `before` holds."""
    return {id(p) for p in posts if before.digests.get(p.url_path) != states[p.url_path]}


class Signer:
    """Signatures for one site and one set of templates."""

    def __init__(self, site: Site, env: jinja2.Environment):
        self.env = env
        judged = site.whole.judged if site.whole is not None else None
        self.site_key = judged.key if judged is not None else site_key(site)
        self._keys: dict[str, str] = {}  # template -> its key
        self._lists: dict[str, bool] = {}  # template -> whether it shows listed posts
        self._sources: dict[str, str] = {}  # template -> its source, read once
        self._shaped: tuple[Site, str, str] | None = None
        self._print = _Printer()
        self._print_unsized = self._print.unsized()
        # how many posts each section holds: signed only into the pages that can show it
        # (those that may show a count, and use the sections other than for their names)
        self._sizes = repr(tuple(len(s.posts) for s in site.sections))
        self._stated: tuple[Site, dict[str, str]] | None = None
        self._site = site
        self._listed: str | None = None  # every post's print, hashed (see `_shows_listed`)
        # Every signature starts from the site-wide key: hashed once, copied per page.
        self._start = hashlib.blake2b(self.site_key.encode("utf-8"), digest_size=16)

    def state(self, site: Site) -> SignedState:
        """What this signer's signatures are taken from, for the next build to compare."""
        site_hash, shape = self._shape(site)
        digests = self._states(site)
        used = site.whole.templates if site.whole is not None else _templates(site)
        templates = {name: self._template_key(name) for name in sorted(used)}
        return SignedState(site_hash, shape, digests, templates)

    def sign_all(
        self, site: Site, previous: dict[str, str], before: SignedState | None = None
    ) -> dict[str, str]:
        """Every page's signature. `before` is what the `previous` signatures were taken
        from, given when no template or setting has changed since: then, if the posts'
        places are the same too (`places_of`: all the plan reads of them but titles and
        summaries, in reading order), the plan has the same pages showing the same posts
        in the same places, and a page planned from posts alone (`Page.from_posts`) that
        shows no edited post (its file, or the articles its own lists as related) keeps
        its signature without being signed again. So a new title or summary signs again
        only the pages that show the post, as a new body does.

        A plan of only some pages (`Site.whole`: see plan_site) holds those this signs
        again: every other page of the whole plan keeps its signature in `previous`."""
        pages = site.pages
        if before is not None:  # no template has changed: not worked out again
            for name, key in before.templates.items():
                self._keys.setdefault(name, key)
        judged = self._judged(site, before)
        if judged is None and (before is None or self._shape(site) != (before.site, before.shape)):
            assert site.whole is None, "a plan of some pages, signed as if its shape changed"
            return {page.path: self.sign(page) for page in pages}
        assert before is not None
        edited = (
            judged.edited if judged is not None else _edited(site.posts, before, self._states(site))
        )
        signatures = {}
        for page in pages:
            kept = previous.get(page.path) if page.from_posts else None
            if kept is None or (
                edited and (_shows(page, edited) or self._shows_listed(page.template))
            ):
                kept = self.sign(page)
            signatures[page.path] = kept
        if site.whole is None:
            return signatures
        # The other pages keep theirs, in the whole plan's order, which holds the news
        # sitemap or not as the time has it (see plan_site): gone, it is removed.
        merged = {**previous, **signatures}
        if tuple(merged) == site.whole.paths:  # (as a rule: the last build's pages)
            return merged
        return {path: merged[path] for path in site.whole.paths}

    def _judged(self, site: Site, before: SignedState | None) -> Judged | None:
        """What the plan of `site` found, comparing it with `before` (Since.edited): its
        shape the same as that of the signatures `before`, its edited posts."""
        judged = site.whole.judged if site.whole is not None else None
        return (
            judged if judged is not None and before is not None and judged.last is before else None
        )

    def _states(self, site: Site) -> dict[str, str]:
        """`_post_states(site)`, worked out once (sign_all and state both ask)."""
        if self._stated is None or self._stated[0] is not site:
            judged = site.whole.judged if site.whole is not None else None  # (by the plan)
            self._stated = (site, judged.states if judged is not None else _post_states(site))
        return self._stated[1]

    def _shape(self, site: Site) -> tuple[str, str]:
        """Hashes of the site-wide key and of the plan's shape (see SignedState): those
        of the signatures the plan found them the same as, if it did."""
        if self._shaped is None or self._shaped[0] is not site:
            judged = site.whole.judged if site.whole is not None else None
            last = judged.last if judged is not None else None
            if isinstance(last, SignedState):
                self._shaped = (site, last.site, last.shape)
            else:
                self._shaped = (site, *_shape_of(self.site_key, site.posts))
        return self._shaped[1], self._shaped[2]

    def sign(self, page: Page) -> str:
        key = self._template_key(page.template)
        shown, every = _marks(key)
        sized = shown in (SHOWS_LISTED, SHOWS_SIZES)
        printer = self._print if sized else self._print_unsized
        data = repr(
            (
                page.path,
                page.template,
                key,
                printer(page.post),
                printer(page.context),
                self._sizes if sized and every else None,
                self._listed_posts() if shown == SHOWS_LISTED else None,
            )
        )
        digest = self._start.copy()
        digest.update(b"\0" + data.encode("utf-8"))
        return digest.hexdigest()

    def _shows_listed(self, name: str) -> bool:
        """Whether the template `name` (or one it uses) may show a listing's posts: said
        by its key, which the next build takes from this one's while no template changed
        (so that no template is parsed again to tell). Asked of every page an edit
        leaves unsigned: answered once a template."""
        found = self._lists.get(name)
        if found is None:
            found = self._lists[name] = _marks(self._template_key(name))[0] == SHOWS_LISTED
        return found

    def shows_cards(self, name: str) -> bool:
        """Whether the template `name` (or one it uses) renders listing cards: said by
        its key, as `_shows_listed`, so that an edit parses no template to tell."""
        return self._template_key(name).endswith(SHOWS_CARDS)

    def _listed_posts(self) -> str:
        """A hash of every post's print, in reading order: all that the listings' posts
        can show (which posts each listing holds is the plan's shape, signed already)."""
        if self._listed is None:
            prints = "\0".join(map(self._print.post, self._site.posts))
            self._listed = hashlib.blake2b(prints.encode("utf-8"), digest_size=16).hexdigest()
        return self._listed

    def _template_key(self, name: str) -> str:
        """A hash of the template and of every template it uses."""
        found = self._keys.get(name)
        if found is None:
            found = self._keys[name] = self._compute_template_key(name)
        return found

    def _compute_template_key(self, name: str) -> str:
        names = sorted(self.closure(name))
        digest = hashlib.blake2b(digest_size=16)
        for each in names:
            digest.update(each.encode() + b"\0" + self._source(each).encode() + b"\0")
        found = [_references(self._source(each)) for each in names]
        uses = {each[2] for each in found}
        shown = SHOWS_LISTED if SHOWS_LISTED in uses else SHOWS_SIZES if SHOWS_SIZES in uses else ""
        every = SHOWS_SECTIONS if any(each[3] for each in found) else ""
        cards = SHOWS_CARDS if CARD_TEMPLATE in names else ""
        return digest.hexdigest() + shown + every + cards

    def closure(self, name: str) -> set[str]:
        """The template and every template it extends, imports or includes, recursively
        (every template there is, for one that names a template only as it renders)."""
        found: set[str] = set()
        pending = [name]
        while pending:
            current = pending.pop()
            if current in found:
                continue
            found.add(current)
            try:
                referenced, uses_card, _, _ = _references(self._source(current))
            except jinja2.TemplateSyntaxError as exc:  # (parsed here before it renders)
                raise syntax_error(self.env, exc, current) from exc
            if ANY_TEMPLATE in referenced:  # it may use any: its key covers every one
                referenced = (*(t for t in referenced if t != ANY_TEMPLATE), *self._every())
            pending += referenced
            if uses_card:
                pending.append(CARD_TEMPLATE)
        return found

    def _every(self) -> list[str]:
        """Every template the environment can load (none if its loader cannot list)."""
        try:
            return self.env.list_templates()
        except TypeError:
            return []

    def _source(self, name: str) -> str:
        """The template's source, read once. (Kept in a dict of the signer's own: a
        cache of a bound method would make a cycle, which a build's garbage collector
        does not look at (see long_lived), and keep the signer's site to the end.)"""
        found = self._sources.get(name)
        if found is None:
            found = self._sources[name] = self._read_source(name)
        return found

    def _read_source(self, name: str) -> str:
        assert self.env.loader is not None
        try:
            return self.env.loader.get_source(self.env, name)[0]
        except jinja2.TemplateNotFound:
            return ""  # rendering will report it, naming the template
