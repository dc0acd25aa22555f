"""Broadsheet's one compiled module, the search index's per-word loops (see
broadsheet/search/_native.c). Optional: where no C compiler is found, the install goes
on without it and the same work runs in Python (tests hold the two to each other)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "broadsheet.search._native",
            ["broadsheet/search/_native.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
