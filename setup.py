"""Broadsheet's two compiled modules: the search index's per-word loops (see
broadsheet/search/_native.c) and the walk of the source folders every build takes
(broadsheet/_files.c). Optional: where no C compiler is found, the install goes on
without them and the same work runs in Python (tests hold the two to each other)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "broadsheet.search._native",
            ["broadsheet/search/_native.c"],
            optional=True,
            extra_compile_args=["-O2"],
        ),
        Extension(
            "broadsheet._files",
            ["broadsheet/_files.c"],
            optional=True,
            extra_compile_args=["-O2", "-Wall"],
        ),
    ]
)
