"""Broadsheet's compiled modules: the search index's per-word loops (see
broadsheet/search/_native.c), the loops over files every build takes
(broadsheet/_files.c) and the reading back of the last build's posts
(broadsheet/content/_posts.c). Optional: where no C compiler is found, the install goes on
without them and the same work runs in Python (tests hold the two to each other)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "broadsheet.search._native",
            ["broadsheet/search/_native.c"],
            depends=["broadsheet/_crc32.h"],
            optional=True,
            extra_compile_args=["-O2"],
        ),
        Extension(
            "broadsheet._files",
            ["broadsheet/_files.c"],
            depends=["broadsheet/_stamp.h"],
            optional=True,
            extra_compile_args=["-O2", "-Wall"],
        ),
        Extension(
            "broadsheet.content._posts",
            ["broadsheet/content/_posts.c"],
            depends=["broadsheet/_crc32.h", "broadsheet/_stamp.h"],
            optional=True,
            extra_compile_args=["-O2", "-Wall"],
        ),
    ]
)
