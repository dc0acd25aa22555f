"""Raw scraped text -> Markdown posts on disk."""
