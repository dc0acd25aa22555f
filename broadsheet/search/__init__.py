"""Broadsheet's own full-text search index: built while pages render, updated in place
after an edit, read in the browser by static/js/search.js."""
