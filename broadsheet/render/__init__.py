"""Post -> HTML: Markdown with Pygments highlighting, and Jinja templates."""
